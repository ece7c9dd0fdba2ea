"""Plain-NumPy references for every fastattn variant: the maths, written to be read.

They never import the compiled extension; tests compare every kernel with them.
"""
