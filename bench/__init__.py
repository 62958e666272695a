"""`make bench`: the performance benchmark of the suite on the reference stack."""
