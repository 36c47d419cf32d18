"""secscan.compliance: every finding from every scanner gets its OWASP 2021 / PCI DSS v4.0 ids."""

from __future__ import annotations

import re

import pytest

from secscan.compliance import annotate, classify, default_table, load_table
from secscan.errors import ConfigError
from secscan.models import Confidence, Finding, Identifier, Kind, Location, Severity, Source


def _finding(
    *,
    scanner: str = "bandit",
    rule_id: str = "B999",
    kind: Kind = Kind.SAST,
    identifiers: tuple[Identifier, ...] = (),
    compliance: tuple[str, ...] = (),
    sources: tuple[Source, ...] = (),
) -> Finding:
    return Finding(
        kind=kind,
        scanner=scanner,
        rule_id=rule_id,
        title="t",
        message="m",
        severity=Severity.HIGH,
        severity_original="HIGH",
        confidence=Confidence.HIGH,
        location=Location(path="app.py", start_line=3),
        identifiers=identifiers,
        compliance=compliance,
        sources=sources,
    )


def _cwe(n: int) -> Identifier:
    return Identifier(type="cwe", value=f"CWE-{n}")


def test_bandit_md5_maps_to_crypto_failures_and_pci_by_rule_id() -> None:
    (out,) = annotate([_finding(rule_id="B324", identifiers=(_cwe(327),))])
    assert out.compliance == ("OWASP-2021:A02", "PCI-DSS-4.0:3.5.1", "PCI-DSS-4.0:6.2.4")
    owasp = [i for i in out.identifiers if i.type == "owasp"]
    assert [i.value for i in owasp] == ["A02:2021"]
    assert owasp[0].url == "https://owasp.org/Top10/A02_2021-Cryptographic_Failures/"
    assert _cwe(327) in out.identifiers  # the scanner's identifiers are kept


def test_unknown_rule_falls_back_to_every_cwe() -> None:
    (out,) = annotate([_finding(rule_id="B999", identifiers=(_cwe(89), _cwe(79)))])
    assert "OWASP-2021:A03" in out.compliance
    assert "PCI-DSS-4.0:6.2.4" in out.compliance
    # CWE values arrive in several spellings: "CWE-89", "89", "CWE-089: SQL Injection".
    (a,) = annotate([_finding(identifiers=(Identifier(type="cwe", value="CWE-089: SQL Injection"),))])
    (b,) = annotate([_finding(identifiers=(Identifier(type="cwe", value="89"),))])
    assert a.compliance == b.compliance == ("OWASP-2021:A03", "PCI-DSS-4.0:6.2.4")


def test_rule_entry_wins_over_cwe_for_the_category() -> None:
    # bandit B506 (yaml.load) reports CWE-20 (A03 Injection); it is a deserialization issue: A08.
    (out,) = annotate([_finding(rule_id="B506", identifiers=(_cwe(20),))])
    assert "OWASP-2021:A08" in out.compliance
    assert "OWASP-2021:A03" not in out.compliance


def test_semgrep_rule_id_matches_with_any_folder_prefix() -> None:
    for rid in (
        "payment.card-data-in-log",
        "rules.semgrep.payment.card-data-in-log",
        "x.y.rules.payment.card-data-in-log",
    ):
        (out,) = annotate([_finding(scanner="semgrep", rule_id=rid)])
        assert out.compliance == (
            "OWASP-2021:A09",
            "PCI-DSS-4.0:3.3.1",
            "PCI-DSS-4.0:3.4.1",
            "PCI-DSS-4.0:3.5.1",
        ), rid
    # A suffix that only looks alike must not match.
    (other,) = annotate([_finding(scanner="semgrep", rule_id="other.card-data-in-log-v2")])
    assert other.compliance == ()


def test_zap_plugin_id_alert_ref_and_identifier() -> None:
    (by_ref,) = annotate([_finding(scanner="zap", kind=Kind.DAST, rule_id="10035-1")])
    assert by_ref.compliance == ("OWASP-2021:A05", "PCI-DSS-4.0:4.2.1", "PCI-DSS-4.0:6.4.1")
    ident = Identifier(type="zap_plugin", value="10062")
    (by_ident,) = annotate([_finding(scanner="zap", kind=Kind.DAST, rule_id="PII Disclosure", identifiers=(ident,))])
    assert "PCI-DSS-4.0:3.4.1" in by_ident.compliance
    # A form posting card data from HTTPS to HTTP: transmission (4.2.1), whatever its CWE says.
    (clear,) = annotate([_finding(scanner="zap", kind=Kind.DAST, rule_id="10042", identifiers=(_cwe(319),))])
    assert clear.compliance == ("OWASP-2021:A02", "PCI-DSS-4.0:4.2.1", "PCI-DSS-4.0:6.4.1")


def test_dependency_findings_are_vulnerable_components() -> None:
    dep = _finding(scanner="pip-audit", rule_id="PYSEC-2023-74", kind=Kind.DEPENDENCY)
    (out,) = annotate([dep])
    assert out.compliance == ("OWASP-2021:A06", "PCI-DSS-4.0:6.3.1", "PCI-DSS-4.0:6.3.3")


def test_scanner_supplied_owasp_identifier_is_kept_not_duplicated() -> None:
    given = Identifier(type="owasp", value="A03:2021 - Injection")
    (out,) = annotate([_finding(rule_id="B608", identifiers=(_cwe(89), given))])
    assert [i for i in out.identifiers if i.type == "owasp"] == [given]
    assert "OWASP-2021:A03" in out.compliance
    # A 2017 category is not a 2021 one: it neither counts nor blocks the 2021 identifier.
    old = Identifier(type="owasp", value="A1:2017-Injection")
    (out2,) = annotate([_finding(rule_id="B608", identifiers=(_cwe(89), old))])
    assert {i.value for i in out2.identifiers if i.type == "owasp"} == {"A1:2017-Injection", "A03:2021"}


def test_idempotent_and_keeps_existing_compliance() -> None:
    f = _finding(rule_id="B324", identifiers=(_cwe(327),), compliance=("SOC2:CC6.1",))
    once = annotate([f])
    twice = annotate(once)
    assert once == twice
    assert once[0].compliance[0] == "SOC2:CC6.1"
    assert len(set(once[0].compliance)) == len(once[0].compliance)


def test_unmapped_finding_is_returned_unchanged() -> None:
    f = _finding(rule_id="B110", identifiers=(_cwe(703),))
    assert annotate([f]) == [f]


def test_merged_sources_are_consulted() -> None:
    src = Source(scanner="bandit", rule_id="B501", severity_original="HIGH", message="m", location=Location())
    (out,) = annotate([_finding(scanner="semgrep", rule_id="someone.else", sources=(src,))])
    assert "PCI-DSS-4.0:4.2.1" in out.compliance


def test_bundled_table_is_consistent() -> None:
    table = default_table()
    assert default_table() is table  # loaded once
    assert sorted(table.owasp) == [f"A{i:02d}" for i in range(1, 11)]
    for entry in [*table.cwe.values(), *table.kinds.values()] + [e for r in table.rules.values() for e in r.values()]:
        assert entry.owasp is None or entry.owasp in table.owasp
        assert all(re.fullmatch(r"\d{1,2}(\.\d{1,2}){1,3}", p) for p in entry.pci)
    # OWASP lists every CWE under exactly one 2021 category: spot-check well-known ones.
    expected = {
        "CWE-79": "A03",
        "CWE-89": "A03",
        "CWE-327": "A02",
        "CWE-502": "A08",
        "CWE-798": "A07",
        "CWE-918": "A10",
        "CWE-352": "A01",
        "CWE-532": "A09",
        "CWE-1104": "A06",
        "CWE-611": "A05",
    }
    for cwe, cat in expected.items():
        assert table.cwe[cwe].owasp == cat, cwe
    assert table.pci_title("6.2.4")
    assert table.owasp_title("A03") == "Injection"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("version = 2", "unsupported version"),
        ("version = 1\n[cwe]\n'CWE-1' = { owasp = 'A11' }", "A11"),
        ("version = 1\n[pci_dss]\n'6.2.4' = 't'\n[cwe]\n'CWE-1' = { pci = ['9.9.9'] }", "9.9.9"),
        ("version = 1\n[cwe]\n'XSS' = {}", "'XSS'"),
        ("version = 1\n[kinds]\ndast = { owasp = 'A01', level = 3 }", "unknown key"),
        ("version = [", "not valid TOML"),
    ],
)
def test_malformed_mapping_is_a_one_line_config_error(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_table(text)
    assert needle in info.value.message
    assert "\n" not in info.value.message


def test_classify_with_a_custom_table() -> None:
    table = load_table(
        "version = 1\n[owasp]\nA03 = { title = 'Injection', url = '' }\n[pci_dss]\n'6.2.4' = 'x'\n"
        "[rules.bandit]\nB1 = { owasp = 'A03', pci = ['6.2.4'] }\n"
    )
    assert classify(_finding(rule_id="b1"), table) == (("A03",), ("6.2.4",))
    (out,) = annotate([_finding(rule_id="B1")], table=table)
    ident = [i for i in out.identifiers if i.type == "owasp"]
    assert ident == [Identifier(type="owasp", value="A03:2021", url=None)]
