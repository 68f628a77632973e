"""Settings for bench/feedback_http_bench.py: the project's settings, plus a hello-world view on the same
server (a URLconf of the bench's own). Everything else comes from the environment the bench sets."""

from minsheng.settings import *  # noqa: F403

ROOT_URLCONF = "feedback_http_urls"
