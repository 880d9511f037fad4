"""A show folder: its config (`studio.toml`), its essays, building every episode, and its feed.

    studio.toml + essays/*.md ──plan──▶ EpisodePlan* ──render──▶ public/<slug>.mp3 (+ sidecars)
                                              │                  .studio/manifests/<slug>.json
                                              └──────── feed ──▶ public/feed.xml, public/cover.png

- `config`: the config file's models (with Apple's category table) and `load_show`;
- `init`: `studio init`, a new show from seeds/;
- `plan`: which essays are published, their slugs, dates and episode numbers;
- `guids`: each episode's permanent guid;
- `lock`: one build writes into the show at a time (`.studio/build.lock`);
- `build`: every episode rendered (by `studio.render`, in this process or several), then
- `feed`: the cover and feed.xml, written from the episodes on disk (`feed_only`: just those).
"""
