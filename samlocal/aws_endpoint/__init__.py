"""aws_endpoint"""
