"""The fault matrix: real misconfigurations of the reference stacks, written as
data (``catalogue``) in a few step kinds (``steps``), applied and reverted by
the ``runner`` to show that every control can fail."""
