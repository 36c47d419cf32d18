"""One test per thing a SARIF producer may do, on a real file where one exists.

Where no copied file has the feature, the log is built from SARIF 2.1.0's own shapes in the
test (the CodeQL layout of rules in ``tool.extensions``, taxonomies) so the variant is visible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secscan import fingerprint
from secscan.importers import parse_report, sarif
from secscan.models import Kind, Severity
from secscan.sourcefiles import SourceTree
from secscan.triage.dedupe import dedupe
from tests.importers.importers_support import SARIF, load
from tests.support.cli import secscan

TREE = SourceTree(None)


def read(name: str) -> sarif.SarifImport:
    return sarif.read((SARIF / name).read_text(encoding="utf-8"), tree=TREE, origin=name)


def log(results: list[dict[str, Any]], *, driver: dict[str, Any] | None = None, **run: Any) -> str:
    return json.dumps(
        {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": driver or {"name": "T"}, **run.pop("tool", {})}, "results": results, **run}],
        }
    )


def at(uri: str, line: int | None = None, **region: Any) -> dict[str, Any]:
    phys: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if line is not None:
        phys["region"] = {"startLine": line, **region}
    return {"physicalLocation": phys}


# ------------------------------------------------------------------ rules and results


def test_a_result_without_rule_id_is_named_by_its_message() -> None:
    got = read("gitleaks/gitleaks_7.5.0.sarif")
    assert len(got.findings) == 8
    assert {f.rule_id for f in got.findings} == {
        "AWS Access Key secret detected",
        "Asymmetric Private Key secret detected",
    }


def test_rule_found_by_rule_index() -> None:
    # mobsfscan gives ruleIndex; the rule's friendly name becomes the title.
    got = {f.rule_id: f for f in read("mobsfscan/mobsfscan_0.0.8.json").findings}
    assert got["sqlite_injection"].title == "SqliteInjection"
    assert got["sqlite_injection"].references == (
        "https://github.com/MobSF/owasp-mstg/blob/master/Document/0x04h-Testing-Code-Quality.md"
        "#injection-flaws-mstg-arch-2-and-mstg-platform-2",
    )


def test_codeql_rules_in_tool_extensions_give_cwe_and_security_severity() -> None:
    # CodeQL keeps its queries in a pack (tool.extensions) and points at them with
    # rule.toolComponent.index; before, such a SQL injection came out "medium" without CWE.
    pack = {
        "name": "codeql/python-queries",
        "rules": [
            {"id": "py/unused-import", "properties": {"tags": ["maintainability"]}},
            {
                "id": "py/sql-injection",
                "name": "py/sql-injection",
                "shortDescription": {"text": "SQL query built from user-controlled sources"},
                "properties": {"security-severity": "8.8", "tags": ["security", "external/cwe/cwe-089"]},
            },
        ],
    }
    result = {
        "ruleId": "py/sql-injection",
        "rule": {"id": "py/sql-injection", "index": 1, "toolComponent": {"index": 0}},
        "message": {"text": "This SQL query depends on a user-provided value."},
        "locations": [at("app/db.py", 12, startColumn=5, endColumn=30)],
    }
    [f] = sarif.parse(log([result], driver={"name": "CodeQL", "rules": []}, tool={"extensions": [pack]}), tree=TREE)
    assert (f.scanner, f.severity, f.cwe_ids()) == ("codeql", Severity.HIGH, ("CWE-89",))
    assert f.title == "SQL query built from user-controlled sources"
    # The same ruleId with no reference at all is still found in the extension.
    [g] = sarif.parse(
        log([{**result, "rule": None}], driver={"name": "CodeQL"}, tool={"extensions": [pack]}), tree=TREE
    )
    assert g.cwe_ids() == ("CWE-89",) and g.severity is Severity.HIGH


def test_cwe_from_rule_relationships_of_a_real_file() -> None:
    # Flawfinder links each rule to the CWE taxonomy by rule.relationships (name and guid).
    got = {f.rule_id: f for f in read("flawfinder/flawfinder_2.0.19.sarif").findings}
    assert got["FF1021"].cwe_ids() == ("CWE-120", "CWE-20")
    assert got["FF1013"].cwe_ids() == ("CWE-119", "CWE-120")
    assert got["FF1048"].cwe_ids() == ("CWE-327",) and got["FF1048"].title == "random/setstate"
    assert got["FF1021"].severity is Severity.HIGH  # the last FF1021 result says level error


def test_cwe_from_a_rule_help_page_on_cwe_mitre_org() -> None:
    # ShiftLeft sast-scan names each rule's CWE only by linking its help to the CWE entry.
    got = {f.rule_id: f.cwe_ids() for f in read("sast-scan/taint-python-report.sarif").findings}
    assert got == {
        "taint-xmli": ("CWE-91",),
        "taint-basic-xss": ("CWE-80",),
        "taint-idor": ("CWE-639",),
        "taint-file-write": ("CWE-732",),
    }


def test_absolute_paths_under_the_invocation_working_directory_are_repo_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # sast-scan ran in /home/damien/dd and wrote file:///home/damien/dd/dojo/... URIs.
    out = tmp_path / "r.json"
    src = SARIF / "sast-scan/taint-python-report.sarif"
    rc, _, err = secscan("import", "--tool", "sarif", str(src), "-o", str(out), "--root", str(tmp_path))
    assert rc == 0 and "outside --root" not in err
    paths = {f["location"]["path"] for f in load(out)["findings"]}
    assert "dojo/forms.py" in paths and all(p.startswith("dojo/") for p in paths)


def test_same_rule_and_region_merge_and_keep_both_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Two taint-idor results from one source line (views.py:592) to two sinks: one problem at
    # that place, merged and counted, and both messages survive as sources.
    out = tmp_path / "r.json"
    secscan("import", "--tool", "sarif", str(SARIF / "sast-scan/taint-python-report.sarif"), "-o", str(out))
    [idor] = [f for f in load(out)["findings"] if f["rule_id"] == "taint-idor"]
    assert {s["message"].rsplit("`", 2)[-2] for s in idor["sources"]} == {"views.py:595", "views.py:642"}


def test_a_pass_result_without_message_is_counted_not_imported() -> None:
    got = read("flawfinder/flawfinder_2.0.19.sarif")
    assert (got.results, got.skipped, len(got.findings)) == (54, 1, 53)


def test_messages_from_message_strings_of_a_real_file() -> None:
    # SpotBugs gives only message.id + arguments; the text is the rule's template filled in.
    got = read("spotbugs/spotbugs_4.4.0.sarif").findings
    assert (
        got[1].message
        == "Found reliance on default encoding in Boot.writeFrags(Log, String): new java.io.FileWriter(File)."
    )
    assert (
        got[-1].message
        == "The method name XonoticParser$You_cannotContext.Word() doesn't start with a lower case letter."
    )


def test_cwe_from_rule_relationships_and_result_taxa() -> None:
    # Flawfinder's shape: rule.relationships into the CWE taxonomy (by name and guid); and
    # result.taxa pointing at run.taxonomies by index, with numeric taxon ids.
    guid = "FFC64C90-42B6-44CE-8BEB-F6B7DAE649E5"
    rules = [
        {
            "id": "FF1021",
            "relationships": [
                {"target": {"id": "CWE-120", "toolComponent": {"name": "CWE", "guid": guid}}, "kinds": ["relevant"]},
                {"target": {"id": "CWE-20", "toolComponent": {"name": "CWE", "guid": guid}}, "kinds": ["relevant"]},
            ],
        }
    ]
    taxonomies = [{"name": "CWE", "guid": guid, "taxa": [{"id": "79"}, {"id": "352"}]}]
    results: list[dict[str, Any]] = [
        {"ruleId": "FF1021", "message": {"text": "sscanf"}, "locations": [at("a.c", 3)]},
        {
            "ruleId": "X1",
            "message": {"text": "xss"},
            "locations": [at("a.c", 9)],
            "taxa": [{"index": 0, "toolComponent": {"index": 0}}, {"id": "352", "toolComponent": {"guid": guid}}],
        },
    ]
    a, b = sarif.parse(log(results, driver={"name": "Flawfinder", "rules": rules}, taxonomies=taxonomies), tree=TREE)
    assert a.cwe_ids() == ("CWE-120", "CWE-20")
    assert b.cwe_ids() == ("CWE-79", "CWE-352")


def test_cwe_from_result_properties_of_a_real_file() -> None:
    got = {f.rule_id: f for f in read("njsscan/njsscan_0.2.3.sarif").findings}
    assert got["node_insecure_random_generator"].cwe_ids() == ("CWE-327",)
    # CWE-798: a hard-coded credential is a secret, whichever tool found it.
    assert got["node_password"].cwe_ids() == ("CWE-798",) and got["node_password"].kind is Kind.SECRET


def test_severity_from_level_then_rule_default_then_score() -> None:
    dockle = {f.rule_id: f.severity for f in read("dockle/dockle_0_3_15.sarif").findings}
    assert dockle == {
        "CIS-DI-0010": Severity.HIGH,  # level error
        "CIS-DI-0005": Severity.LOW,  # level note
        "CIS-DI-0006": Severity.LOW,
        "CIS-DI-0008": Severity.LOW,
    }
    sentinel = {f.rule_id: f.severity for f in read("sentinel/sentinel_fingerprints.sarif").findings}
    assert sentinel["sql-concat"] is Severity.HIGH and sentinel["mutable-tag"] is Severity.MEDIUM  # rule defaults
    rules = [{"id": "R", "properties": {"security-severity": "9.1"}, "defaultConfiguration": {"level": "note"}}]
    [f] = sarif.parse(log([{"ruleId": "R", "message": {"text": "m"}}], driver={"name": "T", "rules": rules}), tree=TREE)
    assert f.severity is Severity.CRITICAL and f.severity_original == "note (9.1)"


def test_message_from_message_strings_with_arguments() -> None:
    [f] = read("composer/composer-audit_sarif-php-converters.sarif.json").findings
    assert f.message == "Found security advisory"  # text wins over the template when both are given
    rules = [{"id": "R", "messageStrings": {"default": {"text": "Found '{0}' vulnerability in '{1}'."}}}]
    res = {"ruleId": "R", "message": {"id": "default", "arguments": ["CVE-1", "symfony/process"]}}
    [g] = sarif.parse(log([res], driver={"name": "T", "rules": rules}), tree=TREE)
    assert g.message == "Found 'CVE-1' vulnerability in 'symfony/process'."


# ------------------------------------------------------------------ locations


def test_every_location_is_kept() -> None:
    got = {f.rule_id: f for f in read("mobsfscan/mobsfscan_0.0.8.json").findings}
    logging = got["android_logging"]
    assert logging.location.path == "app/src/main/java/jakhar/aseem/diva/InsecureDataStorage2Activity.java"
    assert (logging.location.start_line, logging.location.start_column, logging.location.end_column) == (57, 13, 88)
    assert len(logging.other_locations) == 7
    assert str(logging.other_locations[-1].path).endswith("SQLInjectionActivity.java")
    [pw] = [f for f in read("njsscan/njsscan_0.2.3.sarif").findings if f.rule_id == "node_password"]
    assert [(x.start_line, x.end_column) for x in (pw.location, *pw.other_locations)] == [(235, 34), (239, 38)]


def test_related_locations_are_kept_and_survive_the_result_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = {
        "ruleId": "py/path-injection",
        "message": {"text": "path depends on a [user-provided value](1)"},
        "locations": [at("app/files.py", 20)],
        "relatedLocations": [{"id": 1, **at("app/views.py", 7, startColumn=3)}],
    }
    [f] = sarif.parse(log([res]), tree=TREE)
    assert [(x.path, x.start_line, x.start_column) for x in f.related_locations] == [("app/views.py", 7, 3)]
    assert f.other_locations == ()  # context, not another place of the problem
    src = tmp_path / "codeql.sarif"
    src.write_text(log([res]))
    secscan("import", "--tool", "sarif", str(src), "-o", str(tmp_path / "r.json"))
    [doc] = load(tmp_path / "r.json")["findings"]
    assert doc["related_locations"] == [{"path": "app/views.py", "start_line": 7, "end_line": 7, "start_column": 3}]
    # And secscan's own SARIF writes them back as relatedLocations.
    assert secscan("report", str(tmp_path / "r.json"), "-f", "sarif", "-o", str(tmp_path / "r.sarif"))[0] == 0
    [written] = load(tmp_path / "r.sarif")["runs"][0]["results"]
    [rel] = written["relatedLocations"]
    assert rel["physicalLocation"]["artifactLocation"]["uri"] == "app/views.py"
    assert rel["physicalLocation"]["region"]["startColumn"] == 3


def test_artifact_location_by_index_and_uri_base_ids() -> None:
    run: dict[str, Any] = {
        "artifacts": [{"location": {"uri": "lib/x.py", "uriBaseId": "SRC"}}],
        "originalUriBaseIds": {
            "SRC": {"uri": "src/", "uriBaseId": "ROOT"},
            "ROOT": {"uri": "file:///home/runner/work/p/"},
        },
    }
    results = [
        {
            "ruleId": "R",
            "message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"index": 0}}}],
        },
        {
            "ruleId": "R",
            "message": {"text": "n"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "y.py", "uriBaseId": "SRC"}}}],
        },
    ]
    a, b = sarif.parse(
        log(results, artifacts=run["artifacts"], originalUriBaseIds=run["originalUriBaseIds"]), tree=TREE
    )
    assert (a.location.path, b.location.path) == ("src/lib/x.py", "src/y.py")


def test_url_locations_are_dast() -> None:
    [f] = sarif.parse(
        log([{"ruleId": "R", "message": {"text": "m"}, "locations": [at("https://app.example.com/login")]}]), tree=TREE
    )
    assert (f.kind, f.location.url, f.location.path) == (Kind.DAST, "https://app.example.com/login", None)


def test_results_without_locations_are_findings() -> None:
    got = read("dockle/dockle_0_3_15.sarif").findings
    assert len(got) == 4 and all(f.location.path is None for f in got)


# ------------------------------------------------------------------ suppressions, fingerprints


def test_suppressions_of_every_kind_are_honoured_and_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    src = SARIF / "codescanner/suppression_test.sarif"
    assert secscan("import", "--tool", "sarif", str(src), "-o", str(out))[0] == 0
    got = {f["rule_id"]: f for f in load(out)["findings"]}
    assert {k: f["status"] for k, f in got.items()} == {
        "TST0001": "suppressed",  # kind external: before, it came out as a new finding
        "TST0002": "suppressed",
        "TST0003": "suppressed",  # kind inSource
        "TST0004": "new",
        "TST0005": "new",  # an empty suppressions array suppresses nothing
    }
    assert got["TST0001"]["suppression"]["reason"] == "SARIF external suppression: no justification given"
    assert got["TST0001"]["suppression"]["matched_by"] == "sarif:external"
    assert got["TST0003"]["suppression"]["matched_by"] == "sarif:inSource"


def test_suppressions_under_review_or_rejected_do_not_suppress() -> None:
    results = [
        {"ruleId": "R", "message": {"text": "a"}, "suppressions": [{"kind": "external", "status": "underReview"}]},
        {"ruleId": "R", "message": {"text": "b"}, "suppressions": [{"kind": "inSource", "status": "rejected"}]},
        {
            "ruleId": "R",
            "message": {"text": "c"},
            "suppressions": [{"kind": "external", "justification": "accepted risk"}],
        },
    ]
    a, b, c = sarif.parse(log(results), tree=TREE)
    assert (a.suppression, a.tags) == (None, ("suppression-under-review",))
    assert (b.suppression, b.tags) == (None, ("suppression-rejected",))
    assert c.suppression is not None and c.suppression.reason == "SARIF external suppression: accepted risk"


def test_a_report_suppression_of_a_high_finding_is_refused_by_the_default_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A suppression carried by the report is the producer's decision, not the trusted
    # suppressions file: the policy's cap on inline suppressions (medium) applies to it.
    res = {"ruleId": "R", "level": "error", "message": {"text": "m"}, "locations": [at("a.py", 1)]}
    src = tmp_path / "high.sarif"
    src.write_text(log([{**res, "suppressions": [{"kind": "external"}]}]))
    out = tmp_path / "r.json"
    secscan("import", "--tool", "sarif", str(src), "-o", str(out))
    assert load(out)["findings"][0]["status"] == "suppressed"
    rc, _, _ = secscan("gate", str(out))
    assert rc == 1


def test_partial_fingerprints_are_kept_as_identifiers() -> None:
    [f] = read("composer/composer-audit_sarif-php-converters.sarif.json").findings
    assert [i.value for i in f.identifiers if i.type == "fingerprint"] == [
        "CA0001:fe90ce1c7229c5b3959f9bf61d77868eb3790c6dfefa9cd2830bf03a3a918659"
    ]
    # Black Duck writes fingerprint values as objects, Sentinel as "requires login": neither
    # breaks the import, and neither becomes an identifier.
    assert all(
        i.type != "fingerprint"
        for f in read("blackduck/blackduck_nested_fingerprints.sarif").findings
        for i in f.identifiers
    )
    sentinel = {f.rule_id: f for f in read("sentinel/sentinel_fingerprints.sarif").findings}
    assert [i.value for i in sentinel["cert-verify"].identifiers if i.type == "fingerprint"] == [
        "hashV1:5c1f36e0a9de13c3c96c26fa9a1a02a5d5be0c4a3ad9d0f27b3c4d2f8f4a91aa"
    ]
    assert not [i for i in sentinel["sql-concat"].identifiers if i.type == "fingerprint"]


def test_pass_not_applicable_and_absent_results_are_counted_not_findings() -> None:
    results = [
        {"ruleId": "R", "kind": "pass", "message": {"text": "ok"}},
        {"ruleId": "R", "kind": "notApplicable", "message": {"text": "n/a"}},
        {"ruleId": "R", "baselineState": "absent", "message": {"text": "fixed since"}},
        {"ruleId": "R", "kind": "review", "message": {"text": "look at this"}},
    ]
    got = sarif.read(log(results), tree=TREE)
    assert (got.results, got.skipped, [f.message for f in got.findings]) == (4, 3, ["look at this"])


# ------------------------------------------------------------------ never lose a finding


def _deduped(text: str) -> list[Any]:
    return dedupe(fingerprint.assign(sarif.parse(text, tree=TREE), tree=TREE))


def test_same_rule_three_times_on_one_line_is_three_findings() -> None:
    results = [
        {"ruleId": "R", "message": {"text": "m"}, "locations": [at("a.py", 4, startColumn=c, endColumn=c + 3)]}
        for c in (1, 10, 20)
    ]
    assert len(_deduped(log(results))) == 3


def test_two_rules_of_one_family_on_one_line_are_two_findings() -> None:
    rules = [
        {"id": "weak-md5", "properties": {"tags": ["external/cwe/cwe-327"]}},
        {"id": "weak-sha1", "properties": {"tags": ["external/cwe/cwe-328"]}},
    ]
    results = [{"ruleId": r["id"], "message": {"text": "m"}, "locations": [at("a.py", 4)]} for r in rules]
    assert len(_deduped(log(results, driver={"name": "T", "rules": rules}))) == 2


def test_results_without_a_line_stay_apart_unless_they_say_the_same() -> None:
    results = [
        {"ruleId": "R", "message": {"text": "first"}, "locations": [at("Dockerfile")]},
        {"ruleId": "R", "message": {"text": "second"}, "locations": [at("Dockerfile")]},
        {"ruleId": "R", "message": {"text": "second"}, "locations": [at("Dockerfile")]},
    ]
    assert sorted(f.message for f in _deduped(log(results))) == ["first", "second"]


def test_exact_duplicates_merge_and_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = {"ruleId": "R", "message": {"text": "m"}, "locations": [at("a.py", 4, startColumn=2, endColumn=9)]}
    src = tmp_path / "dup.sarif"
    src.write_text(log([one, one, {**one, "locations": [at("a.py", 4, startColumn=12, endColumn=19)]}]))
    rc, out, _ = secscan("import", "--tool", "sarif", str(src), "-o", str(tmp_path / "r.json"))
    assert rc == 0 and "3 result(s): 2 finding(s), 1 duplicate(s) merged" in out
    assert load(tmp_path / "r.json")["meta"]["import_duplicates"] == "1"


def test_parse_report_counts_what_it_read() -> None:
    got = parse_report("sarif", (SARIF / "gitleaks/gitleaks_7.5.0.sarif").read_text(), origin="g.sarif", tree=TREE)
    assert (got.results, got.skipped, len(got.findings)) == (8, 0, 8)
    assert [(s.name, s.version, s.state.value) for s in got.statuses] == [("gitleaks", "v7.4.0", "ok")]
