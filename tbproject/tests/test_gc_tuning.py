import gc

from tbproject.gc_tuning import tune


def test_tune_raises_the_first_threshold_and_freezes_what_exists(settings):
    before = gc.get_threshold()
    try:
        settings.GC_GEN0_THRESHOLD = 12_345
        tune()
        assert gc.get_threshold() == (12_345, before[1], before[2])
        assert gc.get_freeze_count() > 0
        settings.GC_GEN0_THRESHOLD = 0
        gc.set_threshold(*before)
        tune()
        assert gc.get_threshold() == before  # 0: Python's defaults stay
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
