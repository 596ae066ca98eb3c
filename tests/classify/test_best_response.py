"""best_response(): one test per rule of RFC 3261 §16.7 (steps 5-7), on bare codes.

The header-aggregating rules (step 7 challenges, merged 3xx Contacts) need parsed responses
and are tested in test_classify_responses.py.
"""

from __future__ import annotations

from sipstatus._classify import Action
from sipstatus._proxy import best_response


def test_step6_no_final_response_gives_408() -> None:
    choice = best_response([])
    assert (choice.code, choice.response, choice.index) == (408, None, None)
    assert choice.classification.code == 408
    assert choice.reasons == ("RFC 3261 §16.7 step 6: no final response in the context, "
                              "so the proxy sends 408 (Request Timeout)",)


def test_step5_provisional_responses_are_not_candidates() -> None:
    choice = best_response([100, 180, 183])
    assert choice.code == 408
    assert choice.reasons[0] == ("RFC 3261 §16.7 step 5: 3 provisional response(s) are not "
                                 "candidates (a 100 is never forwarded; other 1xx go upstream "
                                 "at once)")


def test_step5_a_2xx_is_forwarded_at_once() -> None:
    choice = best_response([486, 603, 200, 404])
    assert (choice.code, choice.index) == (200, 2)
    assert choice.cancel_pending is True
    assert choice.reasons[0] == ("RFC 3261 §16.7 step 5: a 2xx is forwarded at once; 200 is "
                                 "sent upstream")


def test_step6_a_6xx_wins_over_lower_classes() -> None:
    choice = best_response([302, 486, 500, 603, 404])
    assert (choice.code, choice.index) == (603, 3)
    assert choice.cancel_pending is True
    assert choice.classification.advice.action is Action.GLOBAL_STOP
    assert choice.reasons == (
        "RFC 3261 §16.7 step 6: a 6xx wins over every other class; 603 is chosen",
        "RFC 3261 §16.7 step 5: on a 6xx the proxy cancels its pending branches and starts "
        "no new ones",
    )


def test_step6_the_lowest_class_is_chosen() -> None:
    choice = best_response([503, 486, 302, 404])
    assert (choice.code, choice.index) == (302, 2)
    assert choice.cancel_pending is False
    assert choice.reasons[0] == ("RFC 3261 §16.7 step 6: no 6xx, so the lowest class present "
                                 "(3xx) is chosen")


def test_step6_the_earliest_response_of_the_class_when_nothing_is_preferred() -> None:
    choice = best_response([500, 486, 480, 404])
    assert (choice.code, choice.index) == (486, 1)


def test_step6_4xx_prefers_responses_that_help_resubmission() -> None:
    # The RFC's own example: 503, 407, 501 and 404 -> forward the 407.
    choice = best_response([503, 407, 501, 404])
    assert (choice.code, choice.index) == (407, 1)
    assert "RFC 3261 §16.7 step 6: within 4xx, 407 is preferred because it helps the client " \
           "resubmit" in choice.reasons
    for helpful in (401, 407, 415, 420, 484):
        assert best_response([486, 404, helpful, 480]).code == helpful


def test_step6_a_lone_503_becomes_500() -> None:
    choice = best_response([503])
    assert (choice.code, choice.index, choice.response) == (500, 0, 503)
    assert choice.classification.code == 500
    assert choice.reasons[-1] == ("RFC 3261 §16.7 step 6: a 503 is not relayed upstream; the "
                                  "proxy sends 500 (Server Internal Error) instead")
    assert best_response([503, 503]).code == 500


def test_step6_another_5xx_is_preferred_to_503() -> None:
    choice = best_response([503, 504])
    assert (choice.code, choice.index) == (504, 1)
    assert choice.reasons[-1] == ("RFC 3261 §16.7 step 6: 504 is preferred over 503, which a "
                                  "proxy does not relay upstream")
