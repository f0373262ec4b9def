"""The staff model page (learned against hand weights, switching) and the run page's "scored by" line."""

import pytest

from matcher import db
from test_learning import _payload
from test_web_runs import start_run

from matcher.learning import artifact


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("MATCHER_MODELS", str(folder))
    return folder


def test_model_page_charts_learned_against_hand_weights_with_axis_titles(staff, models):
    assert "matcher train" in staff.get("/staff/model").get_data(as_text=True)
    artifact.save(_payload())
    page = staff.get("/staff/model").get_data(as_text=True)
    assert 'id="weights-default"' in page and 'id="weights-region_heavy"' in page
    assert "점수 요소" in page and "점수에서 차지하는 비중" in page  # the axes' titles
    assert page.count('class="bar-learned"') == 10 and page.count('class="bar-hand"') == 10
    english = staff.get("/staff/model?lang=en").get_data(as_text=True)
    assert "score component" in english and "share of the score" in english


def test_switching_on_the_staff_page_is_refused_unless_better_and_runs_say_their_model(staff, round_id, models,
                                                                                      app):
    artifact.save(_payload(diff_low=-0.02))
    refused = staff.post("/staff/model/use", data={"version": "v1"}, follow_redirects=True).get_data(as_text=True)
    assert "수기 가중치보다 우연 이상으로 낫지 않아" in refused
    artifact.save(_payload())
    staff.post("/staff/model/use", data={"version": "v2"})
    assert "<strong>v2</strong>" in staff.get("/staff/model").get_data(as_text=True)
    run_id = start_run(staff, round_id, track="materials")
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert 'id="run-model"' in page and "점수 모델: v2" in page
    staff.post("/staff/model/use", data={"version": "hand"})
    run_id = start_run(staff, round_id, track="materials")
    assert "점수 모델: 수기 가중치" in staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert [r.model for r in s.query(db.MatchRunRow).order_by(db.MatchRunRow.id)][-2:] == ["v2", "hand"]
