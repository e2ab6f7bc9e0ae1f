"""Why a prediction was made: attributions, attention, words, checks."""
