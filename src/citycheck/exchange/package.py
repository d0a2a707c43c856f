"""Exchange packages: build, sign, verify and check them (format ``citycheck-exchange/1``).

Framework-free: plain functions over data frames, dictionaries and bytes, no Django, so
both ends, the benchmark and a notebook use the same code (``docs/exchange.md`` is the
format's reference). A package is one JSON document::

    {"format": "citycheck-exchange", "format_version": "1.0",
     "manifest": {... sender, receiver, round, mapping, counts, parts with SHA-256 ...},
     "parts": {"observations.csv": "<SDMX-CSV-like text>"},
     "signature": {"algorithm": "Ed25519", "key_id": "...", "value": "<base64>"}}

The signature covers the canonical JSON of the manifest, and the manifest holds the
SHA-256 of every part, so one check of the signature and one digest per part prove the
whole package. Receipts are signed the same way by the receiver.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

FORMAT = "citycheck-exchange"
FORMAT_VERSION = "1.0"
# 1.1 adds the optional parts below (release, problem list, project list) and the
# receipt's per-part verdicts; a package without them is still written as 1.0.
PARTS_VERSION = "1.1"
SUPPORTED_VERSIONS = frozenset({"1.0", "1.1"})
OBSERVATIONS = "observations.csv"
SYSTEM_PART = "system.yaml"
METHOD_PART = "method.yaml"
DIVISIONS_PART = "divisions.csv"
# Reference data handed down, by package kind: its one part. Methods and division codes
# came with format 1.1.
REFERENCE_PARTS = {"system": SYSTEM_PART, "method": METHOD_PART, "divisions": DIVISIONS_PART}
REFERENCE_MEDIA = {SYSTEM_PART: "application/yaml", METHOD_PART: "application/yaml"}
RELEASE, PROBLEMS, PROJECTS = "release.csv", "problems.csv", "projects.csv"
# The optional parts (format 1.1) and their columns. Place codes are GB/T 2260, indicator
# codes the receiver's (after mapping); ``PROBLEM`` and ``PROJECT`` are the sender's ids,
# ``INDICATORS`` and ``PROBLEMS`` lists of codes or ids separated by ``;``.
EXTRA_PARTS = {
    RELEASE: ["REF_AREA", "LEVEL", "CODE", "VALUE", "SCORE", "RANK", "PLACE_COUNT", "WARNING"],
    PROBLEMS: [
        "REF_AREA",
        "PROBLEM",
        "DISEASE",
        "DISEASE_NAME",
        "DIMENSION",
        "SEVERITY",
        "POINTS",
        "STATUS",
        "INDICATORS",
        "EXPLANATION",
    ],
    PROJECTS: [
        "REF_AREA",
        "PROJECT",
        "NAME",
        "TYPE",
        "YEAR",
        "STATUS",
        "BUDGET",
        "START",
        "END",
        "PROBLEMS",
    ],
}
# Each part's key (unique per part) and its numeric columns (empty allowed).
PART_KEYS = {RELEASE: ["REF_AREA", "LEVEL", "CODE"], PROBLEMS: ["PROBLEM"], PROJECTS: ["PROJECT"]}
PART_NUMBERS = {RELEASE: ["VALUE", "SCORE"], PROBLEMS: [], PROJECTS: ["BUDGET"]}
PART_WHOLE_NUMBERS = {RELEASE: ["RANK", "PLACE_COUNT"], PROBLEMS: ["POINTS"], PROJECTS: ["YEAR"]}
RELEASE_LEVELS = frozenset({"index", "dimension", "indicator"})
SEVERITIES = frozenset({"severe", "moderate", "mild"})
# The SDMX-CSV-like table: one observation per row, SDMX concept names as headers.
COLUMNS = [
    "DATAFLOW",  # the receiver's indicator system code (what the data conforms to)
    "REF_AREA",  # division code of the place (GB/T 2260)
    "INDICATOR",  # the receiver's indicator code (after mapping)
    "TIME_PERIOD",  # the round's year
    "SOURCE",  # where the value came from at the sender (self_check, third_party, adopted)
    "OBS_VALUE",  # the number; empty for a value the place left empty
    "UNIT_MEASURE",  # the unit as the receiver's system writes it
    "OBS_STATUS",  # A normal, M missing, R revised (a correction of a sent value)
    "COMMENT",  # a note
]
STATUS_NORMAL, STATUS_MISSING, STATUS_REVISED = "A", "M", "R"
KINDS = frozenset({"submission", "correction", *REFERENCE_PARTS})
SIGNED_MANIFEST = b"citycheck-exchange/1 manifest\n"
SIGNED_RECEIPT = b"citycheck-exchange/1 receipt\n"

# Receipt states (per package) and row rejection reasons.
ACCEPTED, PARTIALLY_ACCEPTED, REJECTED = "accepted", "partially_accepted", "rejected"
REASONS = {
    "unknown_place": "地区代码不在接收方的行政区划或本轮参与地区中",
    "unknown_indicator": "指标代码不在接收方的指标体系中",
    "unit_mismatch": "计量单位与接收方指标体系不一致",
    "period_outside_round": "时期不是本轮年度",
    "duplicate_row": "同一地区、同一指标出现多行",
    "bad_value": "数值不是有限数",
    "wrong_dataflow": "数据流（指标体系）与清单不一致",
    "place_not_sender": "地区不属于发送方",
    "bad_table": "表头与格式规定的列不一致",
    "count_mismatch": "行数与清单不符",
    "bad_number": "应为数字",
    "bad_level": "层级应为 index、dimension 或 indicator",
    "bad_severity": "严重程度应为 severe、moderate 或 mild",
    "bad_date": "日期应为 YYYY-MM-DD",
}


class PackageError(Exception):
    """A package refused as a whole; ``code`` is stable (for machines), ``message`` says
    what is wrong (in Chinese, the format's language)."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


# ── keys and canonical bytes ─────────────────────────────────────────────────────


def new_private_key() -> bytes:
    """A new Ed25519 private key as its 32 raw bytes."""
    from cryptography.hazmat.primitives import serialization

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def public_key_of(private_key: bytes) -> str:
    """The base64 text of the public key of a raw private key (what peers record)."""
    from cryptography.hazmat.primitives import serialization

    raw = (
        Ed25519PrivateKey.from_private_bytes(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode("ascii")


def key_id(public_key: str) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


def canonical_json(value) -> bytes:
    """UTF-8 JSON with sorted keys and no spaces: the bytes a signature covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sign(prefix: bytes, body: dict, private_key: bytes) -> dict:
    public = public_key_of(private_key)
    value = Ed25519PrivateKey.from_private_bytes(private_key).sign(prefix + canonical_json(body))
    return {
        "algorithm": "Ed25519",
        "key_id": key_id(public),
        "value": base64.b64encode(value).decode("ascii"),
    }


def _verify(prefix: bytes, body: dict, signature, public_key: str) -> bool:
    if not isinstance(signature, dict) or signature.get("algorithm") != "Ed25519":
        return False
    try:
        raw = base64.b64decode(signature.get("value", ""), validate=True)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
        key.verify(raw, prefix + canonical_json(body))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# ── the observations table ───────────────────────────────────────────────────────


def observations_csv(frame: pd.DataFrame) -> str:
    """The table as CSV text (header = :data:`COLUMNS`, UTF-8, ``\\n`` line ends).

    Values are written with the shortest text that reads back to the same float, so the
    receiver gets exactly the sender's numbers.
    """
    return table_csv(frame, COLUMNS, numbers=["OBS_VALUE"])


def _number_text(value, whole: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(int(value)) if whole else repr(float(value))


def table_csv(frame: pd.DataFrame, columns: list[str], *, numbers=(), whole=()) -> str:
    """A table as CSV text with the header ``columns`` (UTF-8, ``\\n`` line ends); the
    ``numbers`` columns written as the shortest text that reads back to the same double,
    the ``whole`` ones as integers, empty for a missing one."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}")
    out = frame[columns].copy()
    for column in (*numbers, *whole):
        out[column] = [_number_text(v, column in whole) for v in out[column].tolist()]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def read_observations(text: str) -> pd.DataFrame:
    """The table from CSV text; every column as text except ``OBS_VALUE`` (float, NaN
    for empty). Raises :class:`PackageError` when the header is not :data:`COLUMNS`."""
    return _read_table(text)[0]


def _read_table(text: str) -> tuple[pd.DataFrame, pd.Series]:
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise PackageError("bad_table", f"观测值表无法读取：{exc}") from exc
    if list(frame.columns) != COLUMNS:
        raise PackageError(
            "bad_table",
            "观测值表的表头应为 {}，实际为 {}".format(",".join(COLUMNS), ",".join(frame.columns)),
        )
    raw = frame["OBS_VALUE"]
    frame["OBS_VALUE"] = pd.to_numeric(raw.replace("", np.nan), errors="coerce").astype(float)
    return frame, raw


def raw_values(text: str) -> pd.Series:
    """The ``OBS_VALUE`` column as written (to tell an empty value from a bad one)."""
    return _read_table(text)[1]


# ── packages ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Verified:
    """A package whose signature and digests held: its manifest and table."""

    manifest: dict
    observations: pd.DataFrame
    raw_values: pd.Series
    digest: str
    parts: dict = field(default_factory=dict)  # every part's text, by name


def make_package(
    observations: pd.DataFrame,
    *,
    package_id: str,
    sender: str,
    receiver: str,
    dataflow: str,
    round_: dict,
    mapping: dict,
    kind: str = "submission",
    created: str,
    private_key: bytes,
    corrects: list[str] | None = None,
    extra_parts: dict[str, tuple[pd.DataFrame, dict]] | None = None,
) -> dict:
    """A signed package of ``observations`` (columns :data:`COLUMNS`).

    ``round_`` names the round at the receiver (``{"year": 2024, "kind": "annual"}``),
    ``mapping`` the code mapping used (``{"code": ..., "version": ...}``), ``corrects``
    the ids of earlier packages a correction amends. ``extra_parts`` maps names of
    :data:`EXTRA_PARTS` to a frame with its columns and what the manifest says about it
    (e.g. ``{"release": {...}}``); with any, the package is format 1.1.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    text = observations_csv(observations)
    data = text.encode("utf-8")
    manifest = {
        "package_id": package_id,
        "kind": kind,
        "sender": sender,
        "receiver": receiver,
        "created": created,
        "dataflow": dataflow,
        "round": round_,
        "mapping": mapping,
        "corrects": list(corrects or []),
        "counts": {
            "observations": len(observations),
            "places": int(observations["REF_AREA"].nunique()),
            "indicators": int(observations["INDICATOR"].nunique()),
        },
        "parts": [
            {
                "name": OBSERVATIONS,
                "media_type": "text/csv",
                "rows": len(observations),
                "bytes": len(data),
                "sha256": sha256_hex(data),
            }
        ],
    }
    texts = {OBSERVATIONS: text}
    for name, (frame, about) in sorted((extra_parts or {}).items()):
        part_text = table_csv(
            frame, EXTRA_PARTS[name], numbers=PART_NUMBERS[name], whole=PART_WHOLE_NUMBERS[name]
        )
        part_data = part_text.encode("utf-8")
        manifest["parts"].append(
            {
                **about,
                "name": name,
                "media_type": "text/csv",
                "rows": len(frame),
                "bytes": len(part_data),
                "sha256": sha256_hex(part_data),
            }
        )
        texts[name] = part_text
    return {
        "format": FORMAT,
        "format_version": PARTS_VERSION if extra_parts else FORMAT_VERSION,
        "manifest": manifest,
        "parts": texts,
        "signature": _sign(SIGNED_MANIFEST, manifest, private_key),
    }


def make_system_package(
    system_yaml: str,
    *,
    package_id: str,
    sender: str,
    system: dict,
    created: str,
    private_key: bytes,
) -> dict:
    """A signed package distributing an indicator system downward: the self-contained
    system file as part ``system.yaml``; ``system`` is ``{"code": …, "version": …}``."""
    return make_reference_package(
        "system",
        system_yaml,
        package_id=package_id,
        sender=sender,
        about={"system": system},
        dataflow=system["code"],
        created=created,
        private_key=private_key,
    )


def make_reference_package(
    kind: str,
    text: str,
    *,
    package_id: str,
    sender: str,
    about: dict,
    created: str,
    private_key: bytes,
    dataflow: str = "",
) -> dict:
    """A signed package handing reference data down (``kind`` a key of
    :data:`REFERENCE_PARTS`: an indicator system, a method file or the division codes),
    addressed to every lower instance (``receiver`` ``*``); ``about`` goes into the
    manifest (``{"system": {...}}``, ``{"method": {...}}``, ``{"divisions": {...}}``)."""
    name = REFERENCE_PARTS[kind]
    data = text.encode("utf-8")
    manifest = {
        "package_id": package_id,
        "kind": kind,
        "sender": sender,
        "receiver": "*",
        "created": created,
        "dataflow": dataflow,
        "round": None,
        **about,
        "mapping": None,
        "corrects": [],
        "counts": {},
        "parts": [
            {
                "name": name,
                "media_type": REFERENCE_MEDIA.get(name, "text/csv"),
                "bytes": len(data),
                "sha256": sha256_hex(data),
            }
        ],
    }
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if kind == "system" else PARTS_VERSION,
        "manifest": manifest,
        "parts": {name: text},
        "signature": _sign(SIGNED_MANIFEST, manifest, private_key),
    }


def package_digest(package: dict) -> str:
    """The SHA-256 of the signed manifest: one identifier of the package's whole content."""
    return sha256_hex(canonical_json(package.get("manifest", {})))


def _require(condition: bool, code: str, message: str) -> None:
    if not condition:
        raise PackageError(code, message)


def verify_package(
    package, public_keys: dict[str, str], *, receiver: str | None = None
) -> Verified:
    """Check a package: format, sender known, signature, receiver, every part's digest and
    row count. ``public_keys`` maps each known sender code to its base64 public key.

    Raises :class:`PackageError` (codes ``malformed``, ``unsupported_version``,
    ``unknown_sender``, ``bad_signature``, ``wrong_receiver``, ``digest_mismatch``,
    ``count_mismatch``, ``bad_table``) for the first problem found.
    """
    _require(isinstance(package, dict), "malformed", "数据包应为 JSON 对象")
    _require(package.get("format") == FORMAT, "malformed", f"format 应为 {FORMAT}")
    version = package.get("format_version")
    _require(
        version in SUPPORTED_VERSIONS,
        "unsupported_version",
        f"不支持的格式版本 {version!r}（支持：{', '.join(sorted(SUPPORTED_VERSIONS))}）",
    )
    manifest, parts = package.get("manifest"), package.get("parts")
    _require(
        isinstance(manifest, dict) and isinstance(parts, dict), "malformed", "缺少清单或数据部分"
    )
    for key in ("package_id", "sender", "receiver", "dataflow", "round", "parts", "counts", "kind"):
        _require(key in manifest, "malformed", f"清单缺少字段 {key}")
    _require(
        isinstance(manifest["package_id"], str) and 0 < len(manifest["package_id"]) <= 64,
        "malformed",
        "package_id 应为 1–64 个字符的文本",
    )
    _require(manifest["kind"] in KINDS, "malformed", f"kind 无效：{manifest['kind']!r}")
    sender = manifest["sender"]
    _require(
        isinstance(sender, str) and sender in public_keys,
        "unknown_sender",
        f"发送方 {sender!r} 不是已登记的对端平台",
    )
    _require(
        _verify(SIGNED_MANIFEST, manifest, package.get("signature"), public_keys[sender]),
        "bad_signature",
        "签名无效：数据包不是由登记的发送方密钥签署，或清单在签署后被改动",
    )
    if receiver is not None:
        _require(
            manifest["receiver"] == receiver,
            "wrong_receiver",
            f"数据包的接收方是 {manifest['receiver']!r}，不是本平台 {receiver!r}",
        )
    described = manifest["parts"]
    _require(
        isinstance(described, list) and all(isinstance(p, dict) for p in described),
        "malformed",
        "清单的 parts 应为列表",
    )
    names = {p.get("name") for p in described}
    _require(names == set(parts), "malformed", "清单列出的部分与数据包中的部分不一致")
    for part in described:
        text = parts[part["name"]]
        _require(isinstance(text, str), "malformed", f"部分 {part['name']} 应为文本")
        _require(
            sha256_hex(text.encode("utf-8")) == part.get("sha256"),
            "digest_mismatch",
            f"部分 {part['name']} 的 SHA-256 与清单不符：内容在签署后被改动或传输中损坏",
        )
    if manifest["kind"] in REFERENCE_PARTS:
        name = REFERENCE_PARTS[manifest["kind"]]
        _require(name in parts, "malformed", f"缺少部分 {name}")
        empty = pd.DataFrame(columns=COLUMNS)
        return Verified(manifest, empty, pd.Series(dtype=str), package_digest(package), parts)
    _require(OBSERVATIONS in parts, "malformed", f"缺少部分 {OBSERVATIONS}")
    text = parts[OBSERVATIONS]
    observations, raw = _read_table(text)
    rows = next(p for p in described if p["name"] == OBSERVATIONS).get("rows")
    _require(
        rows == len(observations) == manifest["counts"].get("observations"),
        "count_mismatch",
        f"观测值行数 {len(observations)} 与清单的 {rows} 不符",
    )
    return Verified(manifest, observations, raw, package_digest(package), parts)


# ── row checks at the receiver ───────────────────────────────────────────────────


def check_observations(
    frame: pd.DataFrame,
    *,
    dataflow: str,
    period: str,
    places: set[str],
    units: dict[str, str],
    raw: pd.Series | None = None,
) -> pd.DataFrame:
    """Rejections of the rows of a verified table against the receiver's system.

    ``places`` are the division codes the sender may report (in the round and under the
    sender), ``units`` maps each indicator code of the receiver's system to its unit.
    Returns one row per problem: ``row`` (1-based data row, the CSV line minus one),
    ``column``, ``reason`` (a key of :data:`REASONS`), ``value``. A row may have several.
    """
    problems: list[pd.DataFrame] = []
    flag = _flagger(frame, problems)

    flag(frame["DATAFLOW"] != dataflow, "DATAFLOW", "wrong_dataflow")
    flag(~frame["REF_AREA"].isin(places), "REF_AREA", "unknown_place")
    known = frame["INDICATOR"].isin(units.keys())
    flag(~known, "INDICATOR", "unknown_indicator")
    expected_unit = frame["INDICATOR"].map(units)
    flag(known & (frame["UNIT_MEASURE"] != expected_unit), "UNIT_MEASURE", "unit_mismatch")
    flag(frame["TIME_PERIOD"] != str(period), "TIME_PERIOD", "period_outside_round")
    values = frame["OBS_VALUE"]
    written = (raw if raw is not None else values.astype(str)).astype(str).str.strip() != ""
    flag(written & ~np.isfinite(values.fillna(np.inf)), "OBS_VALUE", "bad_value")
    duplicated = frame.duplicated(["REF_AREA", "INDICATOR"], keep=False)
    flag(duplicated, "REF_AREA", "duplicate_row")
    return _problems(problems)


def _flagger(frame: pd.DataFrame, problems: list):
    """``flag(mask, column, reason)``: note a problem for each row of ``frame`` in
    ``mask`` (row numbers 1-based, the value as written)."""

    def flag(mask, column, reason):
        if mask.any():
            problems.append(
                pd.DataFrame(
                    {
                        "row": np.flatnonzero(mask.to_numpy()) + 1,
                        "column": column,
                        "reason": reason,
                        "value": frame.loc[mask, column].astype(str).to_numpy(),
                    }
                )
            )

    return flag


def _problems(problems: list) -> pd.DataFrame:
    if not problems:
        return pd.DataFrame(columns=["row", "column", "reason", "value"])
    return pd.concat(problems, ignore_index=True).sort_values(["row", "column"], kind="stable")


def check_part(
    name: str, text: str, *, rows, places: set[str], indicators: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one optional part (a name of :data:`EXTRA_PARTS`) and judge its rows against
    the receiver: ``places`` the sender may report, ``indicators`` of the receiver's
    system, ``rows`` the count the manifest declares. Returns the table (all text) and its
    problems (as :func:`check_observations`; row 0 for the part as a whole). A part is
    taken whole or refused whole, so any problem refuses it."""
    columns = EXTRA_PARTS[name]
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        return pd.DataFrame(columns=columns), _one("", "bad_table", str(exc))
    if list(frame.columns) != columns:
        return frame, _one("", "bad_table", ",".join(frame.columns))
    if rows != len(frame):
        return frame, _one("", "count_mismatch", str(len(frame)))
    problems: list[pd.DataFrame] = []
    flag = _flagger(frame, problems)
    flag(~frame["REF_AREA"].isin(places), "REF_AREA", "unknown_place")
    for column in PART_NUMBERS[name]:
        number = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
        flag((frame[column] != "") & ~np.isfinite(number.fillna(np.inf)), column, "bad_number")
    for column in PART_WHOLE_NUMBERS[name]:
        flag((frame[column] != "") & ~frame[column].str.fullmatch(r"\d+"), column, "bad_number")
    flag(frame.duplicated(PART_KEYS[name], keep=False), PART_KEYS[name][-1], "duplicate_row")
    if name == RELEASE:
        flag(~frame["LEVEL"].isin(RELEASE_LEVELS), "LEVEL", "bad_level")
        indicator = frame["LEVEL"] == "indicator"
        flag(indicator & ~frame["CODE"].isin(indicators), "CODE", "unknown_indicator")
    elif name == PROBLEMS:
        flag(~frame["SEVERITY"].isin(SEVERITIES), "SEVERITY", "bad_severity")
        listed = (
            frame["INDICATORS"]
            .str.split(";")
            .map(lambda codes: all(c in indicators for c in codes if c))
        )
        flag(~listed.astype(bool), "INDICATORS", "unknown_indicator")
    else:
        for column in ("START", "END"):
            date = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
            flag(date.isna(), column, "bad_date")
    return frame, _problems(problems)


def _one(column: str, reason: str, value: str) -> pd.DataFrame:
    return pd.DataFrame([{"row": 0, "column": column, "reason": reason, "value": value}])


def receipt_state(rows: int, rejected_rows: int) -> str:
    """``accepted`` (no row refused), ``rejected`` (every row refused) or
    ``partially_accepted``."""
    if rejected_rows == 0:
        return ACCEPTED
    if rejected_rows >= rows:
        return REJECTED
    return PARTIALLY_ACCEPTED


def make_receipt(
    *,
    package_id: str,
    package_digest: str,
    receiver: str,
    sender: str,
    received: str,
    state: str,
    counts: dict,
    rejections: list[dict],
    error: dict | None,
    private_key: bytes,
    parts: list[dict] | None = None,
) -> dict:
    """A signed receipt: ``body`` (what the receiver decided) and its ``signature``.
    ``parts`` (format 1.1): the verdict on each optional part, ``name``, ``rows``,
    ``state`` (accepted or rejected, a part being taken whole) and ``rejections``."""
    body = {
        "format": FORMAT,
        "format_version": PARTS_VERSION if parts else FORMAT_VERSION,
        "package_id": package_id,
        "package_digest": package_digest,
        "receiver": receiver,
        "sender": sender,
        "received": received,
        "state": state,
        "counts": counts,
        "rejections": rejections,
        "error": error,
    }
    if parts:
        body["parts"] = parts
    return {"body": body, "signature": _sign(SIGNED_RECEIPT, body, private_key)}


def verify_receipt(receipt, public_key: str, *, package_id: str, package_digest: str) -> dict:
    """The body of a receipt signed by ``public_key`` for this package, or
    :class:`PackageError` (``bad_receipt``)."""
    _require(
        isinstance(receipt, dict) and isinstance(receipt.get("body"), dict),
        "bad_receipt",
        "回执格式无效",
    )
    body = receipt["body"]
    _require(
        _verify(SIGNED_RECEIPT, body, receipt.get("signature"), public_key),
        "bad_receipt",
        "回执签名无效：不是由登记的接收方密钥签署",
    )
    _require(
        body.get("package_id") == package_id and body.get("package_digest") == package_digest,
        "bad_receipt",
        "回执不是对本数据包的答复",
    )
    return body


# ── mapping and what changed ─────────────────────────────────────────────────────


def map_codes(frame: pd.DataFrame, entries: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Translate our indicator codes to the other level's.

    ``frame`` has ``indicator`` and ``value`` (and any other columns); ``entries`` has
    ``ours``, ``theirs``, ``unit`` (the other level's unit) and ``factor`` (their value =
    ours × factor). Returns the mapped rows (``indicator`` and ``value`` replaced,
    ``unit`` added, our code and value kept as ``ours`` and ``ours_value``) and the rows whose indicator has no mapping.
    """
    merged = frame.merge(
        entries[["ours", "theirs", "unit", "factor"]],
        left_on="indicator",
        right_on="ours",
        how="left",
    )
    unmapped = merged["theirs"].isna()
    mapped = merged[~unmapped].copy()
    mapped["ours_value"] = mapped["value"]
    mapped["value"] = mapped["value"] * mapped["factor"].astype(float)
    mapped["indicator"] = mapped["theirs"]
    mapped = mapped.drop(columns=["theirs", "factor"])
    return mapped.reset_index(drop=True), frame[unmapped.to_numpy()].reset_index(drop=True)


def changed_rows(current: pd.DataFrame, confirmed: pd.DataFrame) -> pd.Series:
    """A boolean mask over ``current`` (columns ``place``, ``indicator``, ``value``): the
    rows the receiver has not confirmed with the same value (new, or changed since).
    ``confirmed`` has the same columns: the values the receiver accepted."""
    merged = current[["place", "indicator", "value"]].merge(
        confirmed[["place", "indicator", "value"]].rename(columns={"value": "confirmed"}),
        on=["place", "indicator"],
        how="left",
        indicator="_seen",
    )
    value, sent = merged["value"].to_numpy(float), merged["confirmed"].to_numpy(float)
    same = (merged["_seen"] == "both").to_numpy() & (
        (np.isnan(value) & np.isnan(sent)) | (value == sent)
    )
    return pd.Series(~same, index=current.index)
