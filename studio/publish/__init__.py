"""Publishing: the encoded episode with its chapters, and the sidecar files players read."""
