"""Merge request feedback on GitLab: one summary note kept current, inline threads, commit status.

- :mod:`secscan.gitlab.settings`: CI variables + flags -> :class:`PublishSettings` (token kept out of repr)
- :mod:`secscan.gitlab.publish`: ``publish_result(result, settings) -> PublishOutcome``
- pure helpers: :mod:`.markers` (hidden HTML markers), :mod:`.diffmap` (changed lines),
  :mod:`.notes` (note and thread bodies), :mod:`.plan` (which threads to open/resolve, which
  duplicates to merge), :mod:`.existing` (what secscan already wrote on the MR)
- I/O helpers: :mod:`.resilience` (retries, backoff, circuit breaker), :mod:`.api` (python-gitlab
  adapter), :mod:`.redact` (the token never leaves the process)
"""
