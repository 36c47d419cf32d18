"""`python -m secscan` entry point."""

from secscan.cli import main

if __name__ == "__main__":
    main()
