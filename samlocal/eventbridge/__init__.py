"""eventbridge"""
