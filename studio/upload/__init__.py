"""`studio publish`: upload a show's output folder to where listeners fetch it.

`local` says what of the output folder is for listeners (never `.studio/`, temporary files or
manifests), with each file's hash, Content-Type, Cache-Control and place in the upload order;
`destinations` reads where to (a folder, `user@host:/path` for rsync over SSH, `s3://bucket/prefix`);
`folder`, `rsync` and `s3` compare with what the destination holds and upload; `record` keeps, in
the show's state, what was uploaded where; `publish` runs it all with the feed last.

(`studio.publish` is the other thing: writing the MP3, its sidecars and the feed.)
"""
