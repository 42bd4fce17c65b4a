"""The Questions, Compare and Family tree pages through streamlit.testing.v1.AppTest (no browser)."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from tests.test_views import hostile_sources

from ._support import open_page

QUESTIONS, COMPARE, TIMELINE = "app_pages/questions.py", "app_pages/compare.py", "app_pages/timeline.py"
# Markup that would render (an image, a link, a tag) if the page forgot to escape graph text
LIVE_MARKUP = re.compile(r"(?<!\\)<(img|script|b)\b|(?<!\\)!(?<!\\)\[|(?<!\\)\]\((javascript|http://127)")



def table(at: AppTest):
    (frame,) = at.dataframe
    return frame.value


def claim_ids(at: AppTest) -> list[str]:
    """The ids of the claims shown (each claim's statement starts with its id in bold)."""
    plain = [m.value.replace("\\", "") for m in at.markdown]
    return [m.group(1) for m in (re.match(r"\*\*((Q\d+|F)\.\d+)\*\*", t) for t in plain) if m]


def rendered_text(at: AppTest) -> list[str]:
    """Everything the page renders as Markdown: text elements, expander and link labels, help texts."""
    out = [e.value for kind in ("markdown", "caption", "title", "subheader", "info") for e in getattr(at, kind)]
    out += [e.help for e in at.markdown if getattr(e, "help", None)]
    out += [e.label for e in at.expander]
    out += [e.proto.label for e in at.get("page_link")] + [e.proto.help for e in at.get("page_link")]
    return out


def text_of(data: bytes | str) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data


@pytest.fixture
def downloads(monkeypatch):
    """The files the page's download buttons serve: {file name: (bytes, mime type)}. A button whose
    data is written only when clicked gets its data written here, as a click would."""
    files = {}
    real, real_deferred = MemoryMediaFileStorage.load_and_get_id, MediaFileManager.add_deferred

    def record(self, path_or_data, mimetype, kind, filename=None):
        files[filename] = (path_or_data, mimetype)
        return real(self, path_or_data, mimetype, kind, filename)

    def record_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        files[file_name] = (data_callable(), mimetype)
        return real_deferred(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return files


# --------------------------------------------------------------------------------------------- compare


def test_compare_table_filters_and_downloads(downloads):
    at = open_page(COMPARE)
    assert at.title[0].value == "Compare the models"
    df = table(at)
    assert len(df) == 21 and {"BERT", "XLNet", "ELMo", "GPT-2"} <= set(df["model"])
    bert = df[df["model"] == "BERT"].iloc[0]
    assert (bert["extractor"], bert["objective"], bert["page"]) == ("Transformer", "Autoencoding LM", "/node?node=BERT")
    assert df[df["model"] == "XLNet"].iloc[0]["improves_on"] == "BERT; Transformer-XL"

    csv_text = text_of(downloads["plm-comparison.csv"][0])
    assert len(list(csv.reader(io.StringIO(csv_text)))) == 22
    assert downloads["plm-comparison.json"][1] == "application/json"
    assert {b.label for b in at.get("download_button")} == {"Download CSV", "Download JSON"}

    at.multiselect(key="compare-objective").select("Permutation language modeling").run()
    assert list(table(at)["model"]) == ["XLNet"]
    data = downloads["plm-comparison.json"][0]
    assert [r["id"] for r in json.loads(text_of(data))] == ["XLNet"]   # the downloads follow the filters

    at.multiselect(key="compare-objective").unselect("Permutation language modeling").run()
    at.text_input(key="compare-search").input("Baidu").run()
    assert set(table(at)["model"]) == {"ERNIE 1.0", "ERNIE 2.0"}
    at.text_input(key="compare-search").input("").run()
    at.slider(key="compare-years").set_range(2003, 2017).run()
    assert set(table(at)["model"]) == {"NNLM", "word2vec", "NADE", "Transformer"}
    at.multiselect(key="compare-organisation").select("Google").run()
    assert set(table(at)["model"]) == {"word2vec", "Transformer"}
    assert not at.exception


# --------------------------------------------------------------------------------------------- questions


def test_questions_in_reading_order():
    at = open_page(QUESTIONS)
    heads = [h.value for h in at.subheader]
    assert len(heads) == 19
    assert [h.split()[0] for h in heads[:18]] == [f"Q{i}" for i in range(1, 19)]
    assert heads[18] == r"The future of pre\-trained language models"
    assert at.selectbox(key="questions-section").value == "all"
    ids = claim_ids(at)
    assert len(ids) == 120 and ids[0] == "Q1.1" and ids[-1].startswith("F.")
    assert any("各预训练语言模型相比如何" in m.value for m in at.markdown)   # the question in Chinese, our words
    assert any(getattr(m.proto, "help", "") and "从不同维度对比" in m.proto.help for m in at.markdown)  # the survey's


def test_section_param_shows_its_claims():
    at = open_page(QUESTIONS, section="Q17")
    assert at.selectbox(key="questions-section").value == "Q17"
    assert [h.value for h in at.subheader] == ["Q17 Why XLNet works"]
    assert claim_ids(at) == [f"Q17.{i}" for i in range(1, 9)]
    links = {(p.proto.label, p.proto.query_string) for p in at.get("page_link")}
    assert ("XLNet", "node=XLNet") in links and ("NADE", "node=NADE") in links
    demos = {q for label, q in links if label.startswith("Demo: ")}
    assert demos == {"node=demo-mlm-independence", "node=demo-permutation-lm", "node=demo-two-stream-attention"}
    assert any("arxiv.org/abs/1906.08237" in c.value for c in at.caption)

    at.selectbox(key="questions-section").select("Q5").run()
    assert at.query_params["section"] == "Q5"
    assert [h.value for h in at.subheader][0].startswith("Q5 ")
    at.selectbox(key="questions-section").select("all").run()
    assert "section" not in at.query_params


def test_question_search():
    at = open_page(QUESTIONS)
    at.text_input(key="questions-search").input("two-stream").run()
    ids = claim_ids(at)
    assert {"Q17.6", "Q17.7"} <= set(ids) and len(ids) < 10
    at.text_input(key="questions-search").input("zzz no such claim").run()
    assert at.info and not at.subheader


# --------------------------------------------------------------------------------------------- family tree


def family_data(at: AppTest) -> dict:
    """What the Family tree page sends its browser component to draw."""
    (tree,) = at.get("bidi_component")
    assert tree.proto.component_name == "plm_family_tree"
    return json.loads(tree.proto.json)


def test_the_family_tree_sends_every_model_with_its_links_and_lists_them_by_month():
    at = open_page(TIMELINE)
    assert at.title[0].value == "Family tree of the models"
    data = family_data(at)
    assert len(data["models"]) == 21 and len(data["edges"]) == 13
    assert {(e["from"], e["to"]) for e in data["edges"]} >= {("BERT", "XLNet"), ("Transformer-XL", "XLNet"),
                                                             ("GPT", "GPT-2"), ("Transformer", "Transformer-XL")}
    roberta = next(e for e in data["edges"] if e["to"] == "RoBERTa")
    tip = [text for _, text in roberta["tip"]]
    assert tip[0] == "RoBERTa improves on BERT"
    assert any(s.startswith("• Dynamic masking (introduced by RoBERTa): addresses Static masking") for s in tip)
    assert any(s.startswith("Q1.10 (backs this link)") for s in tip)
    assert [lane["label"] for lane in data["lanes"]][:3] == ["Foundations (before 2017)", "Other lines after BERT",
                                                           "Up to BERT"]
    assert data["break"] and any(kind == "break" for kind, _ in data["legend"])
    xlnet = next(m for m in data["models"] if m["id"] == "XLNet")
    assert xlnet["aria"] == "XLNet, Jun 2019"
    assert {p.proto.label for p in at.get("page_link")} >= {"XLNet", "BERT", "NNLM", r"ERNIE \(THU\)"}
    months = [m.value for m in at.markdown if m.value.startswith("**")]
    assert months[0] == "**Feb 2003**" and months[-1] == "**Jul 2019**" and len(months) == 14
    at.segmented_control(key="family-group").set_value("objective").run()
    assert not at.exception
    lanes = [lane["label"] for lane in family_data(at)["lanes"]]
    assert "Permutation language modeling" in lanes and "Up to BERT" not in lanes


# --------------------------------------------------------------------------------------------- hostile text


@pytest.fixture
def hostile_graph(tmp_path, monkeypatch):
    """The app reads the survey plus a file of hostile labels (a fresh cached backend, cleared after)."""
    from app_pages._shared import backend

    monkeypatch.setenv("PLM_MAP_GRAPH", os.pathsep.join(str(p) for p in hostile_sources(tmp_path)))
    monkeypatch.delenv("PLM_MAP_ENDPOINT", raising=False)
    backend.clear()
    yield
    backend.clear()


def test_hostile_labels_render_as_text(hostile_graph, downloads):
    at = open_page(QUESTIONS, section="Q99")
    texts = rendered_text(at)
    assert [h.value for h in at.subheader] == [r"\<img src=x onerror=alert\(3\)\> Q99"]
    assert any(r"\<script\>alert\(1\)\</script\>" in t for t in texts)
    assert any(r"\!\[t\]\(http\:" in t for t in texts)
    bad = [t for t in texts if LIVE_MARKUP.search(t)]
    assert not bad, bad
    assert not any("javascript" in c.value and "](" in c.value for c in at.caption)   # no arXiv link for a bad id

    at = open_page(COMPARE)
    df = table(at)
    assert "<img src=x onerror=alert(1)>" in set(df["model"])     # a dataframe cell is text, not HTML
    csv_text = text_of(downloads["plm-comparison.csv"][0])
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text
    assert not [t for t in rendered_text(at) if LIVE_MARKUP.search(t)]

    at = open_page(TIMELINE)
    evil = next(m for m in family_data(at)["models"] if m["id"] == "Evil")
    assert evil["label"] == "<img src=x onerror=alert(1)>"        # data for textContent, never markup
    bad = [t for t in rendered_text(at) if LIVE_MARKUP.search(t)]
    assert not bad, bad
    assert r"\<img src=x onerror=alert\(1\)\>" in {p.proto.label for p in at.get("page_link")}
