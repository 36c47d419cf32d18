"""Running OWASP ZAP's packaged scans (baseline, API, full): in a container through the Docker
Engine API, or directly when the script is on PATH (a CI job whose image is ZAP's own).

* :mod:`secscan.zap.settings`: the mode, its defaults, and every ZAP setting checked up front;
* :mod:`secscan.zap.job`: the scripts' command lines (pure);
* :mod:`secscan.zap.api_definition`: OpenAPI / WSDL / GraphQL definitions of API scans;
* :mod:`secscan.zap.auth`: auth headers (ZAP_AUTH_HEADER*), context files, masking;
* :mod:`secscan.zap.baseline_conf`: the ``-c`` rule configuration (parse and validate);
* :mod:`secscan.zap.target`: "is the target reachable?" before anything starts;
* :mod:`secscan.zap.docker_runner` / :mod:`secscan.zap.local_runner`: the two ways to run it;
* :mod:`secscan.zap.reaper`: removes the container and scratch folder if secscan dies.

The backend that ties them together is :class:`secscan.scanners.zap.ZapScanner`.
"""
