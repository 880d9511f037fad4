"""Speech text: normalization, pronunciation lexicon, segmentation and the script."""
