/// The web page: HTML, CSS and JavaScript served by the program itself (no CDN, no build step,
/// works offline).
///
/// The script talks to `/ws` in JSON (the protocol is told in the Showcase README), renders every
/// text with `textContent` (never as HTML), shows "reconnecting" while the socket is down and
/// reconnects with backoff, rejoining its rooms.
enum Page {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>swift-asyncio chat</title>
        <link rel="stylesheet" href="/chat.css">
        <link rel="icon" href="/favicon.svg" type="image/svg+xml">
        </head>
        <body>
        <header>
          <h1>swift-asyncio chat</h1>
          <span id="status" class="status connecting" role="status">connecting…</span>
          <form id="nick-form" autocomplete="off">
            <input id="nick" name="nick" maxlength="24" placeholder="nickname" aria-label="nickname">
            <button>set</button>
          </form>
        </header>
        <div id="notice" class="notice" hidden></div>
        <nav>
          <ul id="rooms"></ul>
          <form id="join-form" autocomplete="off">
            <input id="room" maxlength="33" placeholder="room" aria-label="room to join or create">
            <button>join</button>
          </form>
        </nav>
        <main>
          <section id="log" aria-live="polite"></section>
          <aside><h2>online</h2><ul id="who"></ul></aside>
        </main>
        <form id="send-form" autocomplete="off">
          <input id="text" maxlength="2000" placeholder="message" aria-label="message" disabled>
          <button id="send" disabled>send</button>
        </form>
        <script src="/chat.js"></script>
        </body>
        </html>
        """#

    static let favicon = #"""
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="4" width="28" height="19" rx="5" fill="#24303d"/><path d="M9 23l-3 7 9-7z" fill="#24303d"/><circle cx="10" cy="13.5" r="2" fill="#fff"/><circle cx="16" cy="13.5" r="2" fill="#fff"/><circle cx="22" cy="13.5" r="2" fill="#fff"/></svg>
        """#

    static let css = #"""
        * { box-sizing: border-box; }
        html, body { height: 100%; margin: 0; }
        body { display: flex; flex-direction: column; font: 15px/1.4 system-ui, sans-serif;
          background: #f6f7f9; color: #1d2228; }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: .5em; padding: .5em .75em;
          background: #24303d; color: #fff; }
        h1 { font-size: 1.05em; margin: 0; flex: 1; }
        h2 { font-size: .8em; text-transform: uppercase; color: #667; margin: .25em 0; }
        .status { font-size: .8em; padding: .15em .6em; border-radius: 1em; background: #5a6776; }
        .status.online { background: #2e8b57; }
        .status.reconnecting, .status.connecting { background: #c77d00; }
        .status.degraded { background: #b03a2e; }
        .notice { padding: .4em .75em; background: #fff3cd; border-bottom: 1px solid #e6d9a5; font-size: .9em; }
        nav { display: flex; align-items: center; gap: .5em; padding: .4em .75em; background: #e8ebef;
          overflow-x: auto; }
        nav ul { display: flex; gap: .3em; list-style: none; margin: 0; padding: 0; }
        nav li button { border: 1px solid #b9c0c9; background: #fff; border-radius: 1em; padding: .2em .7em;
          white-space: nowrap; cursor: pointer; }
        nav li button.active { background: #24303d; color: #fff; border-color: #24303d; }
        nav li button .unread { color: #c0392b; font-weight: bold; margin-left: .3em; }
        form { display: flex; gap: .3em; margin: 0; }
        input { font: inherit; padding: .3em .5em; border: 1px solid #b9c0c9; border-radius: .3em; min-width: 0; }
        button { font: inherit; padding: .3em .7em; border-radius: .3em; border: 1px solid #24303d;
          background: #24303d; color: #fff; cursor: pointer; }
        button:disabled { opacity: .5; cursor: default; }
        main { flex: 1; display: flex; min-height: 0; }
        #log { flex: 1; overflow-y: auto; padding: .5em .75em; }
        #log p { margin: .15em 0; overflow-wrap: anywhere; white-space: pre-wrap; }
        #log .nick { font-weight: 600; color: #1f5f99; }
        #log .time { color: #8a94a0; font-size: .8em; margin-right: .4em; }
        #log .event { color: #6b7480; font-style: italic; }
        #log .error { color: #b03a2e; }
        aside { width: 11em; border-left: 1px solid #d5dae0; padding: .5em .75em; overflow-y: auto; background: #fff; }
        aside ul { list-style: none; margin: 0; padding: 0; }
        #send-form { padding: .5em .75em; background: #fff; border-top: 1px solid #d5dae0; }
        #send-form input { flex: 1; }
        @media (max-width: 600px) {
          main { flex-direction: column-reverse; }
          aside { width: auto; border-left: 0; border-bottom: 1px solid #d5dae0; max-height: 4.5em; padding: .25em .75em; }
          aside ul { display: flex; flex-wrap: wrap; gap: 0 .6em; }
          h1 { font-size: .95em; }
          #nick { width: 8em; }
        }
        """#

    static let javascript = #"""
        "use strict";
        // The chat page: one WebSocket to /ws carrying JSON messages (see the Showcase README).
        // Every text from the server is shown with textContent: never parsed as HTML.
        const $ = (id) => document.getElementById(id);
        const state = {
          socket: null,
          nick: localStorage.getItem("chat.nick") || "",
          rooms: JSON.parse(localStorage.getItem("chat.rooms") || '["lobby"]'),
          active: localStorage.getItem("chat.active") || "lobby",
          logs: new Map(),    // room -> [{kind, nick, text, ts}]
          who: new Map(),     // room -> Set of nicks
          unread: new Map(),  // room -> count
          attempt: 0,
          degraded: false,
        };
        const MAX_LINES = 500;

        function save() {
          localStorage.setItem("chat.rooms", JSON.stringify(state.rooms));
          localStorage.setItem("chat.active", state.active);
          if (state.nick) localStorage.setItem("chat.nick", state.nick);
        }

        function setStatus(kind, text) {
          const status = $("status");
          status.className = "status " + kind;
          status.textContent = text;
          const online = kind === "online" || kind === "degraded";
          $("text").disabled = !online;
          $("send").disabled = !online;
        }

        function showNotice(text) {
          const notice = $("notice");
          notice.hidden = !text;
          notice.textContent = text || "";
        }

        function connect() {
          const scheme = location.protocol === "https:" ? "wss://" : "ws://";
          const socket = new WebSocket(scheme + location.host + "/ws");
          state.socket = socket;
          socket.onopen = () => {
            state.attempt = 0;
            setStatus("online", "online");
            if (state.nick) send({ type: "nick", nick: state.nick });
            for (const room of state.rooms) send({ type: "join", room });
          };
          socket.onmessage = (event) => {
            let message;
            try { message = JSON.parse(event.data); } catch { return; }
            receive(message);
          };
          socket.onclose = () => {
            if (state.socket !== socket) return;
            state.socket = null;
            const delay = Math.min(10000, 500 * 2 ** Math.min(state.attempt, 5)) * (0.5 + Math.random() / 2);
            state.attempt += 1;
            setStatus("reconnecting", "reconnecting…");
            setTimeout(connect, delay);
          };
        }

        function send(message) {
          if (state.socket && state.socket.readyState === WebSocket.OPEN) {
            state.socket.send(JSON.stringify(message));
            return true;
          }
          return false;
        }

        function receive(message) {
          switch (message.type) {
            case "welcome":
              if (!state.nick) { $("nick").value = message.nick; }
              break;
            case "nick":
              state.nick = message.nick;
              $("nick").value = message.nick;
              save();
              break;
            case "joined": {
              const room = message.room;
              if (!state.rooms.includes(room)) state.rooms.push(room);
              state.logs.set(room, (message.history || []).map(toLine));
              state.who.set(room, new Set(message.who || []));
              save();
              renderRooms();
              if (room === state.active) render();
              break;
            }
            case "left":
              state.rooms = state.rooms.filter((room) => room !== message.room);
              state.logs.delete(message.room);
              if (state.active === message.room) state.active = state.rooms[0] || "";
              save(); renderRooms(); render();
              break;
            case "who":
              state.who.set(message.room, new Set(message.who || []));
              render();
              break;
            case "message": case "join": case "leave": case "rename":
              onEvent(message);
              break;
            case "error":
              addLine(state.active, { kind: "error", text: message.text });
              break;
            case "notice":
              addLine(state.active, { kind: "event", text: message.text });
              break;
            case "degraded":
              state.degraded = true;
              setStatus("degraded", "degraded");
              showNotice(message.text);
              break;
            case "recovered": {
              state.degraded = false;
              setStatus("online", "online");
              const missed = message.missed || [];
              showNotice(missed.length ? message.text + " Rooms that may have missed messages: " + missed.join(", ") : "");
              for (const room of missed) send({ type: "join", room });
              break;
            }
            case "bye":
              showNotice("The server said: " + message.text + " — reconnecting.");
              break;
          }
        }

        function toLine(event) {
          switch (event.type) {
            case "message": return { kind: "message", nick: event.nick, text: event.text, ts: event.ts };
            case "join": return { kind: "event", text: event.nick + " joined", ts: event.ts };
            case "leave": return { kind: "event", text: event.nick + " left" + (event.text ? " (" + event.text + ")" : ""), ts: event.ts };
            case "rename": return { kind: "event", text: event.nick + " is now " + event.text, ts: event.ts };
          }
          return { kind: "event", text: String(event.text || ""), ts: event.ts };
        }

        function onEvent(event) {
          const who = state.who.get(event.room) || new Set();
          if (event.type === "join") who.add(event.nick);
          if (event.type === "leave") who.delete(event.nick);
          if (event.type === "rename") { who.delete(event.nick); who.add(event.text); }
          state.who.set(event.room, who);
          addLine(event.room, toLine(event));
        }

        function addLine(room, line) {
          if (!room) return;
          const log = state.logs.get(room) || [];
          log.push(line);
          if (log.length > MAX_LINES) log.splice(0, log.length - MAX_LINES);
          state.logs.set(room, log);
          if (room === state.active) {
            appendLine(line);
            renderWho();
          } else {
            state.unread.set(room, (state.unread.get(room) || 0) + 1);
            renderRooms();
          }
        }

        function lineElement(line) {
          const p = document.createElement("p");
          if (line.ts) {
            const time = document.createElement("span");
            time.className = "time";
            time.textContent = new Date(line.ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
            p.append(time);
          }
          if (line.kind === "message") {
            const nick = document.createElement("span");
            nick.className = "nick";
            nick.textContent = line.nick + ": ";
            p.append(nick, document.createTextNode(line.text));
          } else {
            p.className = line.kind;
            p.append(document.createTextNode(line.text));
          }
          return p;
        }

        function appendLine(line) {
          const log = $("log");
          const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
          log.append(lineElement(line));
          while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
          if (atBottom) log.scrollTop = log.scrollHeight;
        }

        function render() {
          const log = $("log");
          log.replaceChildren(...(state.logs.get(state.active) || []).map(lineElement));
          log.scrollTop = log.scrollHeight;
          renderWho();
        }

        function renderWho() {
          const list = $("who");
          const nicks = [...(state.who.get(state.active) || [])].sort();
          list.replaceChildren(...nicks.map((nick) => {
            const li = document.createElement("li");
            li.textContent = nick;
            return li;
          }));
        }

        function renderRooms() {
          const list = $("rooms");
          list.replaceChildren(...state.rooms.map((room) => {
            const li = document.createElement("li");
            const button = document.createElement("button");
            button.type = "button";
            button.textContent = "#" + room;
            if (room === state.active) button.className = "active";
            const unread = state.unread.get(room);
            if (unread) {
              const badge = document.createElement("span");
              badge.className = "unread";
              badge.textContent = String(unread);
              button.append(badge);
            }
            button.onclick = () => { state.active = room; state.unread.delete(room); save(); renderRooms(); render(); };
            button.ondblclick = () => send({ type: "leave", room });
            button.title = "double-click to leave";
            li.append(button);
            return li;
          }));
        }

        $("send-form").onsubmit = (event) => {
          event.preventDefault();
          const input = $("text");
          const text = input.value.trim();
          if (text && state.active && send({ type: "message", room: state.active, text })) input.value = "";
        };
        $("join-form").onsubmit = (event) => {
          event.preventDefault();
          const room = $("room").value.trim().replace(/^#/, "").toLowerCase();
          if (!room) return;
          state.active = room;
          if (send({ type: "join", room })) $("room").value = "";
          save(); renderRooms(); render();
        };
        $("nick-form").onsubmit = (event) => {
          event.preventDefault();
          const nick = $("nick").value.trim();
          if (nick) { state.nick = nick; send({ type: "nick", nick }); }
        };

        $("nick").value = state.nick;
        if (!state.rooms.includes(state.active)) state.active = state.rooms[0] || "";
        renderRooms();
        connect();
        """#
}
