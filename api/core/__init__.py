"""What every api domain shares and no domain owns: time, ids, the transcript line shape, and
the characters no text may be stored or shown with."""
