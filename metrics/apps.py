import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The evaluation's model fits use numpy's OpenBLAS, which starts a thread per CPU it sees (the
# host's, not the container's share) in every web and worker process. Many processes on a few
# cores then fight over them and a 0.2 s fit takes seconds; one thread each is fastest here.
# Set before anything imports numpy (apps load at django.setup()); an operator's own setting
# wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = _("Metrics")
