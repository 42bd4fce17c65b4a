"""`python -m mechanisms links` prints data/demos.ttl; `python -m mechanisms run ID` runs one demo."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["links"]:
        from .links import demo_graph

        sys.stdout.write(demo_graph())
    else:
        from kg.cli import main

        sys.exit(main(["demo", *sys.argv[1:]]))
