"""Running OWASP ZAP's baseline scan: in a container through the Docker Engine API, or
directly when ``zap-baseline.py`` is on PATH (a CI job whose image is ZAP's own).

* :mod:`secscan.zap.baseline_conf`: the ``-c`` rule configuration (parse and validate);
* :mod:`secscan.zap.job`: the zap-baseline.py command line (pure);
* :mod:`secscan.zap.target`: "is the target reachable?" before anything starts;
* :mod:`secscan.zap.docker_runner` / :mod:`secscan.zap.local_runner`: the two ways to run it;
* :mod:`secscan.zap.reaper`: removes the container if secscan dies while ZAP runs.

The backend that ties them together is :class:`secscan.scanners.zap.ZapScanner`.
"""
