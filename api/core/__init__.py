"""What every api domain shares and no domain owns: time, ids, the transcript line shape."""
