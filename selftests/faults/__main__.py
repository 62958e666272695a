"""``python -m selftests.faults`` (``make faults``): the fault matrix."""

import sys

from selftests.faults.runner import main

if __name__ == "__main__":
    sys.exit(main())
