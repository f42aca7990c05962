// The live task log on a request page: follows the task runner's event stream (server-sent events
// `log` and `completion`, Backstage's scaffolder contract) and appends each line once. Without
// EventSource it reads the JSON list of events instead. The page works without this file: its
// "Open the task log" link lists the events on the server.
(function () {
  "use strict";

  var MAX_RECONNECTS = 5;

  function start(section) {
    var streamUrl = section.getAttribute("data-stream-url");
    var eventsUrl = section.getAttribute("data-events-url");
    var list = section.querySelector(".task-log-lines");
    var status = section.querySelector(".task-log-status");
    var seen = {};
    var lastId = null;
    var finished = false;
    var reconnects = 0;
    var source = null;

    function setStatus(text) {
      status.textContent = text;
    }

    function parse(text) {
      try {
        return JSON.parse(text);
      } catch (error) {
        return null;
      }
    }

    // One line per event id: a reconnect (or the list after the stream) may send an event again.
    function append(item) {
      if (!item || typeof item !== "object") {
        return;
      }
      var id = item.id === undefined || item.id === null ? null : String(item.id);
      if (id !== null) {
        if (seen[id]) {
          return;
        }
        seen[id] = true;
        lastId = id;
      }
      if (finished && item.type !== "completion" && source) {
        // Lines after a completion: the task was retried and runs again, so the log is live again.
        finished = false;
        section.setAttribute("data-state", "live");
        setStatus("Following the task live…");
      }
      var body = item.body && typeof item.body === "object" ? item.body : {};
      var line = document.createElement("li");
      line.className = "log-" + String(item.type || "log");
      if (id !== null) {
        line.setAttribute("data-event-id", id);
      }
      var text = "";
      if (body.stepId) {
        text += "[" + String(body.stepId) + "] ";
      }
      if (item.type === "completion") {
        text += "Finished" + (body.status ? ": " + String(body.status) : "") + " ";
      }
      // textContent, never innerHTML: log lines are data from the task, not markup.
      line.textContent = text + String(body.message || "");
      list.appendChild(line);
      if (item.type === "completion") {
        finish(body.status ? String(body.status) : "completed");
      }
    }

    function finish(outcome) {
      // The stream stays open: the server ends it after the task's last completion, and a retried task
      // sends more lines after an earlier one (append() then makes the log live again).
      finished = true;
      section.setAttribute("data-state", "completed");
      section.setAttribute("data-outcome", outcome);
      setStatus("The task finished: " + outcome + ".");
    }

    function streamFrom(after) {
      var url = streamUrl + (after ? "?after=" + encodeURIComponent(after) : "");
      source = new EventSource(url);
      section.setAttribute("data-state", "live");
      setStatus("Following the task live…");
      source.addEventListener("log", function (event) {
        reconnects = 0;
        append(parse(event.data));
      });
      source.addEventListener("completion", function (event) {
        append(parse(event.data));
        if (!finished) {
          finish("completed");
        }
      });
      source.onerror = function () {
        if (finished) {
          source.close();  // the server ended the stream after the last completion
          return;
        }
        // Resume where we were with ?after=, as the contract asks, rather than the browser's own retry.
        source.close();
        reconnects += 1;
        if (reconnects > MAX_RECONNECTS) {
          section.setAttribute("data-state", "lost");
          setStatus("The live log was lost; reload the page or open the task log.");
          return;
        }
        window.setTimeout(function () { streamFrom(lastId); }, 1000 * reconnects);
      };
    }

    function listOnce() {
      fetch(eventsUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (payload) {
          var items = Array.isArray(payload) ? payload : (payload.items || payload.events || []);
          items.forEach(append);
          if (!finished) {
            setStatus("Log as of now; reload for newer lines.");
          }
        })
        .catch(function () {
          setStatus("The task log could not be read.");
        });
    }

    if (typeof window.EventSource === "function") {
      streamFrom(null);
    } else {
      listOnce();
    }
  }

  function init() {
    var sections = document.querySelectorAll("section.task-log[data-stream-url]");
    for (var index = 0; index < sections.length; index += 1) {
      start(sections[index]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
