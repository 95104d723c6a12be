"""The synthetic ZIP-field generator: every digit inside its image, whatever the shapes."""

import numpy as np

from rosenblatt.apps.digits.synth import FieldSynth


def test_a_digit_tucked_under_its_touching_neighbour_stays_inside_the_image():
    """A short stroke touching a wide-topped digit slides under its bar, so it can end left
    of its neighbour's right edge (by more than the right margin) or start left of the image:
    the field still has every digit whole inside it."""
    gamma = np.zeros((28, 28), np.uint8)
    gamma[4:8, 2:26] = 255  # a bar over ...
    gamma[4:25, 2:6] = 255  # ... a stem at its left
    short = np.zeros((28, 28), np.uint8)
    short[16:25, 12:15] = 255
    synth = FieldSynth(np.stack([gamma, short]), np.array([7, 1]), seed=0, p_touch=1.0,
                       max_slant=0.0, max_rotation=0.0)
    for _ in range(200):
        field = synth.sample()
        h, w = field.image.shape[:2]
        for x0, y0, x1, y1 in field.boxes:
            assert 2 <= x0 < x1 <= w - 6 and 0 <= y0 < y1 <= h  # with a margin to the right
