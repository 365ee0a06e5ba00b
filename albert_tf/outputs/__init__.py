"""Writing outputs without losing any: atomic files and folders, one run per output folder.

Import the modules directly; this package imports nothing itself.
"""
