"""Masking names and numbers in ledger text: recall and precision on labelled complaint sentences,
numbers in any writing (property tests), and whole ledgers whose text names people in every usual way."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.masking import TextMasker, mask_numbers
from pipelines.privacy import Pseudonymiser
from tests.ledger_files import PETITION_HEADER, petition, q, roster, write_csv

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def masker():
    return TextMasker(Pseudonymiser(bytes(range(32))))


def score(masker: TextMasker, items: list[dict]) -> dict:
    """Recall of names written only in the text, surname-only references, kept words, numbers; and precision:
    of the spans masked as names, the share that are one of the labelled names."""
    found = missed = kept = lost = nums_ok = nums_bad = 0
    labelled = masked = 0
    for it in items:
        out = masker.mask(it["t"])
        names, alone = it.get("n", []), it.get("s", [])
        found += sum(n not in out for n in names)
        missed += sum(n in out for n in names)
        kept += sum(k in out for k in it.get("k", []))
        lost += sum(k not in out for k in it.get("k", []))
        for d in it.get("d", []):
            digits = re.sub(r"\D", "", d)
            ok = not re.search(r"\d{4}", re.sub(r"\[[^\]]*\]", "", out)) if digits else d not in out
            nums_ok += ok
            nums_bad += not ok
        spans = len(re.findall(r"\[P[0-9a-f]{16}\]|\[某\]", out))
        masked += spans
        labelled += min(spans, len(names) + len(alone))
    return {"recall": found / max(found + missed, 1), "kept": kept / max(kept + lost, 1),
            "numbers": nums_ok / max(nums_ok + nums_bad, 1), "precision": labelled / max(masked, 1),
            "names": found + missed}


@pytest.mark.parametrize("name, min_recall", [("masking_dev.yaml", 0.95), ("masking_heldout.yaml", 0.9),
                                              ("masking_heldout2.yaml", 0.9)])
def test_recall_and_precision_on_labelled_complaints(masker, name, min_recall):
    got = score(masker, yaml.safe_load((DATA / name).read_text(encoding="utf-8")))
    assert got["names"] >= 20
    assert got["recall"] >= min_recall, got
    assert got["numbers"] == 1.0, got          # every number, in every writing
    assert got["kept"] == 1.0, got             # unit names, place names and common words survive
    assert got["precision"] >= 0.95, got


def test_known_names_are_masked_wherever_they_appear(masker):
    m = TextMasker(masker.pseudo)
    m.add_names(["张国林", "欧阳 红", "王伟、李娜"])
    pid = m.pid("张国林")
    # no context at all: only the warehouse's own person columns know these are names
    assert m.mask("张国林家住城南") == f"[{pid}]家住城南"
    assert m.mask("欧阳红和王 伟到过现场").count("[P") == 2
    assert "李娜" not in m.mask("材料由李娜保管")


def test_text_is_stored_as_written_apart_from_what_is_masked(masker):
    text = "反映：县教育局（城关）１２月份　违规发放津贴，共计３万元！"
    assert masker.mask(text) == text
    got = masker.mask("我叫李明华，电话１３９　０７３１　２４６８。")
    assert got.endswith("，电话[电话]。") and "１３９" not in got and "李明华" not in got


# ------------------------------------------------------------------------------- numbers, property tests

HAN = st.text(alphabet="反映县局镇村的了在和问题情况群众干部工作，。、：", min_size=0, max_size=12)
SEP = st.sampled_from(["", " ", "-", "　", "－"])


@st.composite
def mobile(draw):
    digits = "1" + draw(st.sampled_from("3456789")) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    sep = draw(SEP)
    groups = draw(st.sampled_from([(3, 4, 4), (3, 3, 5), (4, 3, 4), (11,)]))
    parts, i = [], 0
    for g in groups:
        parts.append(digits[i:i + g])
        i += g
    prefix = draw(st.sampled_from(["", "+86 ", "+86", "86-", "0086 "]))
    return prefix + sep.join(parts)


@st.composite
def landline(draw):
    area = draw(st.sampled_from(["010", "021", "0731", "0743", "0391"]))
    local = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=8, max_size=8)))
    local = draw(st.sampled_from("2345678")) + local[1:]
    form = draw(st.sampled_from(["{a}-{l}", "({a}){l}", "（{a}）{l1} {l2}", "{a} {l1}-{l2}", "{a}{l}"]))
    return form.format(a=area, l=local, l1=local[:4], l2=local[4:])


@st.composite
def id_number(draw):
    region = draw(st.sampled_from(["430102", "110101", "410102", "320583"]))
    birth = f"{draw(st.integers(1950, 2010))}{draw(st.integers(1, 12)):02d}{draw(st.integers(1, 28)):02d}"
    tail = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=3, max_size=3))) + draw(st.sampled_from("0123456789X"))
    full = region + birth + tail
    form = draw(st.sampled_from(["plain", "6-8-4", "6-4-4-4", "3-3-4-4-4"]))
    sep = draw(st.sampled_from([" ", "-", ""]))
    cuts = {"plain": [18], "6-8-4": [6, 8, 4], "6-4-4-4": [6, 4, 4, 4], "3-3-4-4-4": [3, 3, 4, 4, 4]}[form]
    parts, i = [], 0
    for c in cuts:
        parts.append(full[i:i + c])
        i += c
    return sep.join(parts)


@st.composite
def bank_card(draw):
    n = draw(st.sampled_from([16, 19]))
    digits = "62" + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n - 2, max_size=n - 2)))
    if draw(st.booleans()):
        return " ".join(digits[i:i + 4] for i in range(0, n, 4))
    return digits


@settings(max_examples=300, deadline=None)
@given(HAN, st.one_of(mobile(), landline(), id_number(), bank_card()), HAN,
       st.sampled_from(["", "电话", "手机：", "身份证号", "卡号", "联系方式 "]))
def test_numbers_in_any_writing_leave_no_digit(before, number, after, label):
    text = before + label + number + after
    out = mask_numbers(text)
    assert not re.search(r"[0-9０-９]", out), (text, out)
    assert out.startswith(before) and out.endswith(after)


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9._]{2,10}@[a-z0-9]{2,8}\.(com|cn|net)(\.cn)?", fullmatch=True), HAN)
def test_email_addresses(address, after):
    assert "@" not in mask_numbers("邮箱" + address + after)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="反映县局镇村2024年3月5日第1件共计12.5万元，。、至", max_size=30))
def test_dates_amounts_and_counts_survive(text):
    """Numbers that are not identifiers — dates, sums, counts of 1-5 digits — are kept as written."""
    if re.search(r"\d{7,}", text):
        return
    assert mask_numbers(text) == text


# ------------------------------------------------------------------------------- whole ledgers

NAMED_TEXTS = [
    # every usual way a ledger names a person, and every usual way of writing a number
    ("我叫刘建华，反映县教育局局长张国林收受电子红包，电话189 7318 7780。", ["刘建华", "张国林"], ["189 7318 7780"]),
    ("向王书记反映过多次，其妻子李秀英在县医院吃空饷，联系139-0731-2468。", ["李秀英"], ["139-0731-2468"]),
    ("举报人：赵四海，身份证 430102 19850612 001X，银行卡6222 0212 3456 7890。", ["赵四海"], ["430102 19850612 001X", "6222 0212 3456 7890"]),
    ("来访人徐桂兰称儿子王小虎被体罚，座机（0731）8888 6666，邮箱 xu_gl@163.com。", ["徐桂兰", "王小虎"], ["8888 6666", "xu_gl@163.com"]),
    ("反映城关镇镇长周建国和会计钱小红违规发放津贴，+86 159 1234 5678。", ["周建国", "钱小红"], ["159 1234 5678"]),
]


def test_a_ledger_naming_people_every_way_keeps_none_in_clear(db, tmp_path, zt, key_file):
    rows = [petition(f"XF-{i}", 被反映人="张国林" if i == 0 else "", 反映内容=text) for i, (text, _, _) in enumerate(NAMED_TEXTS)]
    rows.append(petition("XF-BAD", "2023年2月30日", 反映内容="我叫孙丽华，反映村主任邓国强截留补贴，手机13973128856"))
    cases_header = ["案件编号", "所在单位", "姓名", "身份证号", "职务", "违纪类型", "四种形态", "处理日期", "备注"]
    cases = [["AJ-1", "县教育局", "马俊峰", "430102198506120018", "副局长马俊峰（电话13812345678）", "廉洁纪律", "2",
              "2024-05-01", "其弟马小龙承揽工程"]]
    files = [roster(tmp_path), write_csv(tmp_path / "p.csv", PETITION_HEADER, rows),
             write_csv(tmp_path / "cases.csv", cases_header, cases)]
    res = zt("ingest", "--db", db, *files)
    assert res.code == 0, res.err
    assert q(db, "SELECT count(*) FROM rejected_rows") == [(1,)]  # its raw row is scanned too
    needles = {n for _, names, _ in NAMED_TEXTS for n in names} | {"孙丽华", "邓国强", "马俊峰", "马小龙"}
    written = [d for _, _, ds in NAMED_TEXTS for d in ds]
    # an e-mail is looked for as written: its few digits ("163") occur by chance in any hex hash
    needles |= {d for d in written if "@" in d}
    numbers = [re.sub(r"\D", "", d) for d in written if "@" not in d] + ["13973128856", "13812345678", "430102198506120018"]
    con = duckdb.connect(str(db), read_only=True)
    cols = con.execute("""SELECT table_name, column_name FROM information_schema.columns
                          WHERE table_schema = 'main' AND data_type IN ('VARCHAR', 'JSON', 'VARCHAR[]')""").fetchall()
    leaks = []
    for table, column in cols:
        for (value,) in con.execute(f'SELECT CAST("{column}" AS VARCHAR) FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall():
            digits = re.sub(r"\D", "", re.sub(r"[PIT][0-9a-f]{16}", "", value))  # pseudonyms are hex
            leaks += [(table, column, n) for n in needles if n in value]
            leaks += [(table, column, d) for d in numbers if d[-8:] in digits]
    con.close()
    assert leaks == []
    # the same person in the name column and in the text gets the same pseudonym; the text keeps its punctuation
    pid = Pseudonymiser.from_file(key_file).pseudonym("张国林", "person")
    (content,) = q(db, "SELECT content FROM petitions WHERE petition_no = 'XF-0'")[0]
    assert f"[{pid}]" in content and "，" in content and content.startswith("我叫[P")
    (post,) = q(db, "SELECT post FROM cases")[0]
    assert post.startswith("副局长[P") and "[电话]" in post


def test_a_name_known_only_from_a_later_file_is_masked_in_an_earlier_one(db, tmp_path, zt):
    """The petition text names someone who stands only in the cases ledger, loaded after it in the same batch."""
    rows = [petition("XF-1", 反映内容="材料显示江山多次经手此事")]  # no context: only the cases ledger says it is a name
    header = ["案件编号", "所在单位", "姓名", "违纪类型", "四种形态", "处理日期"]
    folder = tmp_path / "台账"
    folder.mkdir()
    roster(folder)
    write_csv(folder / "a_petitions.csv", PETITION_HEADER, rows)
    write_csv(folder / "b_cases.csv", header, [["AJ-1", "县教育局", "江山", "廉洁纪律", "2", "2024-05-01"]])
    assert zt("ingest", "--db", db, folder).code == 0
    (content,) = q(db, "SELECT content FROM petitions")[0]
    assert "江山" not in content and content.startswith("材料显示[P")
    before = q(db, "SELECT row_hash FROM petitions")
    assert zt("ingest", "--db", db, folder).code == 0  # and the same batch again changes nothing
    assert q(db, "SELECT row_hash FROM petitions") == before
    assert q(db, "SELECT rows_unchanged FROM ingest_runs WHERE kind = 'petitions' ORDER BY run_id DESC LIMIT 1") == [(1,)]


def labelled_texts() -> list[str]:
    return [it["t"] for name in ("masking_dev.yaml", "masking_heldout.yaml", "masking_heldout2.yaml")
            for it in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))]


def test_segmenting_block_by_block_is_jieba_on_the_whole_text():
    """The segmenter caches jieba's cut of each block (text between punctuation, as jieba splits it): the tokens
    of every labelled sentence, and of sentences glued from their parts, are those of jieba on the whole text."""
    import jieba

    from pipelines.ingest.masking import _SEGMENTER

    texts = labelled_texts()
    texts += [a + "，" + b[: len(b) // 2] + "2023年 " + b[len(b) // 2:] for a, b in zip(texts, texts[1:])]
    for t in texts + texts:  # the second time from the cache
        assert _SEGMENTER.cut(t) == jieba.lcut(t), t


def test_masking_in_worker_processes_is_masking_here(monkeypatch):
    """Many texts are masked in forked workers: the result is exactly the one-process result."""
    from pipelines.ingest import masking

    texts = labelled_texts()
    texts = [f"{t}（第{i}件）" for i, t in enumerate(texts * 3)]
    pseudo = Pseudonymiser(bytes(range(32)))
    monkeypatch.setenv("ZHENGTAI_WORKERS", "1")
    alone = TextMasker(pseudo)
    alone.add_names(["郭振华", "欧阳娜娜"])
    serial = alone.mask_many(texts)
    monkeypatch.setenv("ZHENGTAI_WORKERS", "2")
    monkeypatch.setattr(masking, "PARALLEL_MIN", 10)
    shared = TextMasker(pseudo)
    shared.add_names(["郭振华", "欧阳娜娜"])
    assert shared.mask_many(texts) == serial
    assert sum(a != b for a, b in zip(serial, texts)) > len(texts) // 3  # names and numbers were masked
