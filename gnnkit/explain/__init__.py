"""Why a prediction was made: Captum and PyG attributions, attention, token attributions, checks."""
