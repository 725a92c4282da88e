"""stream_mapping"""
