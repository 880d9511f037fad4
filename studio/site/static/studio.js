// studio's player: controls, chapters and the live transcript. No framework, nothing fetched.
// Without this script a page still works: the <audio> keeps the browser's own controls and
// chapter links open the MP3 at their time.
(function () {
  "use strict";

  function clock(seconds) {
    var whole = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(whole / 3600);
    var m = Math.floor((whole % 3600) / 60);
    var s = whole % 60;
    var ss = (s < 10 ? "0" : "") + s;
    if (h) return h + ":" + (m < 10 ? "0" : "") + m + ":" + ss;
    return m + ":" + ss;
  }

  // The last item whose start is at or before `time` (items sorted by start), or -1.
  function lastStartedBy(starts, time) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= time) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function setup(player) {
    var audio = player.querySelector("audio");
    var controls = player.querySelector(".controls");
    var button = player.querySelector("[data-play]");
    var scrub = player.querySelector("[data-scrub]");
    var elapsed = player.querySelector("[data-elapsed]");
    var total = player.querySelector("[data-total]");
    var speed = player.querySelector("[data-speed]");
    var chapterMenu = document.querySelector("[data-chapters]");
    var chapterLinks = Array.prototype.slice.call(document.querySelectorAll("[data-seek]"));
    var chapterStarts = chapterMenu
      ? Array.prototype.map.call(chapterMenu.options, function (o) { return parseFloat(o.value); })
      : chapterLinks.map(function (a) { return parseFloat(a.dataset.seek); });
    var transcript = document.querySelector("[data-transcript]");
    var cues = transcript ? Array.prototype.slice.call(transcript.querySelectorAll(".cue")) : [];
    var cueStarts = cues.map(function (c) { return parseFloat(c.dataset.start); });
    var duration = parseFloat(player.dataset.duration) || 0;
    var scrubbing = false;
    var currentCue = -1, currentChapter = -1;

    audio.removeAttribute("controls");
    controls.hidden = false;
    player.classList.add("ready");

    function play() {
      var started = audio.play();
      // A refused play (no user gesture yet) is not an error worth a console line.
      if (started && started.catch) started.catch(function () {});
    }

    function seek(time, andPlay) {
      audio.currentTime = Math.max(0, Math.min(time, duration || time));
      update();
      if (andPlay) play();
    }

    function showCue(index) {
      if (index === currentCue) return;
      if (currentCue >= 0) {
        cues[currentCue].classList.remove("current");
        cues[currentCue].removeAttribute("aria-current");
      }
      currentCue = index;
      if (index < 0) return;
      var cue = cues[index];
      cue.classList.add("current");
      cue.setAttribute("aria-current", "true");
      if (!transcript.contains(document.activeElement)) {
        cues.forEach(function (c) { c.tabIndex = -1; });
        cue.tabIndex = 0;
        var top = cue.offsetTop - transcript.scrollTop;
        if (top < 0 || top > transcript.clientHeight - cue.offsetHeight) {
          transcript.scrollTop = cue.offsetTop - transcript.clientHeight / 3;
        }
      }
    }

    function showChapter(index) {
      if (index === currentChapter) return;
      if (chapterLinks[currentChapter]) chapterLinks[currentChapter].removeAttribute("aria-current");
      currentChapter = index;
      if (chapterLinks[index]) chapterLinks[index].setAttribute("aria-current", "true");
      if (chapterMenu && index >= 0 && chapterMenu.selectedIndex !== index) {
        chapterMenu.selectedIndex = index;
      }
    }

    function update() {
      var time = audio.currentTime;
      if (!scrubbing) scrub.value = time;
      elapsed.textContent = clock(time);
      scrub.setAttribute("aria-valuetext", clock(time) + " of " + clock(duration));
      // The sentence being read stays marked through the pause after it, until the next.
      showCue(lastStartedBy(cueStarts, time));
      showChapter(lastStartedBy(chapterStarts, time + 0.05));
    }

    audio.addEventListener("loadedmetadata", function () {
      if (isFinite(audio.duration) && audio.duration > 0) {
        duration = audio.duration;
        scrub.max = duration;
        total.textContent = clock(duration);
      }
    });
    audio.addEventListener("timeupdate", update);
    audio.addEventListener("seeked", update);
    audio.addEventListener("play", function () {
      player.classList.add("playing");
      button.setAttribute("aria-label", "Pause");
    });
    audio.addEventListener("pause", function () {
      player.classList.remove("playing");
      button.setAttribute("aria-label", "Play");
    });
    audio.addEventListener("ended", function () { audio.currentTime = 0; });

    button.addEventListener("click", function () {
      if (audio.paused) play(); else audio.pause();
    });
    scrub.addEventListener("input", function () {
      scrubbing = true;
      elapsed.textContent = clock(parseFloat(scrub.value));
    });
    scrub.addEventListener("change", function () {
      scrubbing = false;
      seek(parseFloat(scrub.value), false);
    });
    speed.addEventListener("change", function () {
      audio.playbackRate = parseFloat(speed.value);
      try { localStorage.setItem("studio-speed", speed.value); } catch (e) { /* private mode */ }
    });
    try {
      var saved = localStorage.getItem("studio-speed");
      if (saved && speed.querySelector('option[value="' + saved + '"]')) {
        speed.value = saved;
        audio.playbackRate = parseFloat(saved);
      }
    } catch (e) { /* storage refused: keep 1× */ }
    audio.addEventListener("ratechange", function () {
      if (String(audio.playbackRate) !== speed.value) audio.playbackRate = parseFloat(speed.value);
    });

    chapterLinks.forEach(function (link, index) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        seek(chapterStarts[index], true);
      });
    });
    if (chapterMenu) {
      chapterMenu.addEventListener("change", function () {
        seek(parseFloat(chapterMenu.value), true);
      });
    }

    if (transcript) {
      transcript.addEventListener("click", function (event) {
        var cue = event.target.closest(".cue");
        if (cue) seek(parseFloat(cue.dataset.start), true);
      });
      // One tab stop for the whole transcript; arrows move between sentences, Enter plays one.
      transcript.addEventListener("keydown", function (event) {
        var index = cues.indexOf(event.target);
        if (index < 0) return;
        var next = -1;
        if (event.key === "ArrowDown" || event.key === "ArrowRight") next = index + 1;
        else if (event.key === "ArrowUp" || event.key === "ArrowLeft") next = index - 1;
        else if (event.key === "Home") next = 0;
        else if (event.key === "End") next = cues.length - 1;
        else if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          seek(cueStarts[index], true);
          return;
        }
        if (next < 0 || next >= cues.length) return;
        event.preventDefault();
        cues[index].tabIndex = -1;
        cues[next].tabIndex = 0;
        cues[next].focus();
      });
    }

    // A link to the page may say where to start: episode.html#t=90
    var start = /(?:^#|&)t=(\d+(?:\.\d+)?)/.exec(window.location.hash);
    if (start) seek(parseFloat(start[1]), false);
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-player]"), setup);
})();
