"""`python -m twitch_archive.simulator`: run the simulator (same as `twitch-archive simulate`)."""

import sys

from twitch_archive.simulator.cli import main

sys.exit(main())
