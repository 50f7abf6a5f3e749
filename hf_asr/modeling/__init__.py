"""The log-mel wav2vec 2.0 model package.

This folder is what ships to the Hub as remote code: its modules import each other relatively and
never import `hf_asr`, so a folder saved by hf_asr loads with `trust_remote_code=True` without it.
"""
