// The console's policy editor: CodeMirror 6 over the page's <textarea>, which it keeps
// in sync for the plain form post. Diagnostics come from the server's compiler as you
// type (debounced POST to the page's check URL with the session's CSRF token) and show
// under their line, with a quick fix when the compiler says "did you mean".
import { autocompletion } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { setDiagnostics, lintGutter } from "@codemirror/lint";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  MatchDecorator,
  ViewPlugin,
  WidgetType,
  highlightActiveLine,
  keymap,
  lineNumbers,
} from "@codemirror/view";

const CHECK_DELAY_MS = 400;
const SUGGESTION = /[Dd]id you mean ([@#$][A-Za-z0-9_]+)\?/;

// -- @tools, #policies, $context in colour -------------------------------------------
const references = new MatchDecorator({
  regexp: /[@#$][A-Za-z_][A-Za-z0-9_]*/g,
  decoration: (match) =>
    Decoration.mark({
      class: { "@": "tok-tool", "#": "tok-policy", $: "tok-context" }[match[0][0]],
    }),
});
const referenceHighlighter = ViewPlugin.fromClass(
  class {
    constructor(view) {
      this.decorations = references.createDeco(view);
    }
    update(update) {
      this.decorations = references.updateDeco(update, this.decorations);
    }
  },
  { decorations: (plugin) => plugin.decorations },
);

// -- each diagnostic's message under its line ------------------------------------------
class LineMessage extends WidgetType {
  constructor(diagnostic, from, to) {
    super();
    this.diagnostic = diagnostic;
    this.from = from;
    this.to = to;
  }
  eq(other) {
    return (
      other.diagnostic.message === this.diagnostic.message &&
      other.from === this.from &&
      other.to === this.to
    );
  }
  toDOM(view) {
    const box = document.createElement("div");
    box.className = `cm-line-message ${this.diagnostic.severity}`;
    box.setAttribute("role", "note");
    box.textContent = this.diagnostic.message + (this.diagnostic.fix ? ` ${this.diagnostic.fix}` : "");
    const suggested = SUGGESTION.exec(this.diagnostic.fix || "");
    if (suggested && !view.state.readOnly) {
      const fix = document.createElement("button");
      fix.type = "button";
      fix.className = "quick-fix";
      fix.textContent = `Use ${suggested[1]}`;
      fix.addEventListener("click", () => {
        view.dispatch({ changes: { from: this.from, to: this.to, insert: suggested[1] } });
        view.focus();
      });
      box.appendChild(fix);
    }
    return box;
  }
  ignoreEvent() {
    return true;
  }
}

const setLineMessages = StateEffect.define();
const lineMessages = StateField.define({
  create: () => Decoration.none,
  update(messages, transaction) {
    messages = messages.map(transaction.changes);
    for (const effect of transaction.effects) {
      if (effect.is(setLineMessages)) messages = effect.value;
    }
    return messages;
  },
  provide: (field) => EditorView.decorations.from(field),
});

function located(doc, diagnostic) {
  const line = doc.line(Math.min(Math.max(diagnostic.line, 1), doc.lines));
  const from = Math.min(line.from + Math.max(diagnostic.column - 1, 0), line.to);
  const to = Math.min(from + Math.max(diagnostic.length || 1, 1), line.to);
  return { line, from, to: Math.max(to, from) };
}

// -- the page around the editor: diagnostics list and plan tree ------------------------
function lineLink(line, label) {
  const link = document.createElement("a");
  link.href = `#L${line}`;
  link.dataset.line = String(line);
  link.textContent = label;
  return link;
}

function showDiagnostics(list, diagnostics) {
  list.replaceChildren();
  if (diagnostics.length === 0) {
    const none = document.createElement("li");
    none.className = "none";
    none.textContent = "No problems.";
    list.appendChild(none);
  }
  for (const d of diagnostics) {
    const item = document.createElement("li");
    item.className = d.severity;
    item.appendChild(lineLink(d.line, `line ${d.line}:${d.column}`));
    const severity = document.createElement("strong");
    severity.textContent = ` ${d.severity} `;
    item.append(severity, d.message);
    if (d.fix) {
      const fix = document.createElement("em");
      fix.textContent = ` ${d.fix}`;
      item.appendChild(fix);
    }
    list.appendChild(item);
  }
}

function planItems(list, rows) {
  for (const row of rows) {
    const item = document.createElement("li");
    const link = lineLink(row.line, "");
    const step = document.createElement("span");
    step.className = "step";
    step.textContent = row.step || "·";
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = row.kind;
    link.append(step, " ", kind, ` ${row.detail}`);
    item.appendChild(link);
    if (row.groups && row.groups.length > 0) {
      const groups = document.createElement("ul");
      groups.className = "plan-groups";
      for (const group of row.groups) {
        const entry = document.createElement("li");
        const label = lineLink(group.line, group.label);
        label.classList.add("group-label");
        const nested = document.createElement("ol");
        nested.className = "plan";
        planItems(nested, group.rows);
        entry.append(label, nested);
        groups.appendChild(entry);
      }
      item.appendChild(groups);
    }
    list.appendChild(item);
  }
}

function showPlan(list, rows) {
  list.replaceChildren();
  if (rows.length === 0) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = "No plan: fix the errors first.";
    list.appendChild(none);
  }
  planItems(list, rows);
}

// -- completion of tools (with signatures), policies and context names -----------------
function completionSource(data) {
  const options = [
    ...data.tools.map((t) => ({
      label: `@${t.label}`,
      detail: t.signature.slice(t.label.length + 1),
      info: t.info,
      apply: t.signature,
      type: "function",
    })),
    ...data.policies.map((id) => ({ label: `#${id}`, type: "class" })),
    ...data.context.map((name) => ({ label: `$${name}`, type: "variable" })),
  ];
  return (context) => {
    const word = context.matchBefore(/[@#$][A-Za-z0-9_]*/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const sigil = word.text[0];
    return {
      from: word.from,
      options: options.filter((o) => o.label[0] === sigil),
      validFor: /^[@#$][A-Za-z0-9_]*$/,
    };
  };
}

// -- wiring ------------------------------------------------------------------------------
function start() {
  const textarea = document.getElementById("source");
  const host = document.getElementById("editor");
  if (!textarea || !host) return;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const checkUrl = textarea.dataset.checkUrl;
  const diagnosticsList = document.getElementById("diagnostics");
  const planList = document.getElementById("plan");
  const completions = JSON.parse(document.getElementById("completions")?.textContent || "{}");
  const readOnly = textarea.readOnly;
  let timer = null;
  let sequence = 0;

  async function check(view) {
    const asked = ++sequence;
    const source = view.state.doc.toString();
    let answer;
    try {
      const response = await fetch(checkUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ source }),
        credentials: "same-origin",
      });
      if (!response.ok) return;
      answer = await response.json();
    } catch {
      return; // offline for a moment: the next keystroke checks again
    }
    if (asked !== sequence || view.state.doc.toString() !== source) return;
    const doc = view.state.doc;
    const marks = [];
    const widgets = [];
    for (const d of answer.diagnostics) {
      const { line, from, to } = located(doc, d);
      marks.push({ from, to, severity: d.severity, message: d.message + (d.fix ? ` ${d.fix}` : "") });
      widgets.push(
        Decoration.widget({ widget: new LineMessage(d, from, to), block: true, side: 1 }).range(line.to),
      );
    }
    widgets.sort((a, b) => a.from - b.from);
    view.dispatch(setDiagnostics(view.state, marks), {
      effects: setLineMessages.of(Decoration.set(widgets, true)),
    });
    if (diagnosticsList) showDiagnostics(diagnosticsList, answer.diagnostics);
    if (planList) showPlan(planList, answer.plan);
    host.dataset.checked = String(asked);
  }

  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLine(),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.lineWrapping,
        EditorState.readOnly.of(readOnly),
        EditorView.editable.of(!readOnly),
        EditorView.contentAttributes.of({
          "aria-label": "Policy source",
          "aria-describedby": "diagnostics-title",
        }),
        referenceHighlighter,
        lineMessages,
        lintGutter(),
        autocompletion({ override: [completionSource({ tools: [], policies: [], context: [], ...completions })] }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          clearTimeout(timer);
          timer = setTimeout(() => check(update.view), CHECK_DELAY_MS);
        }),
      ],
    }),
  });
  textarea.hidden = true;
  textarea.style.display = "none";
  host.hidden = false;
  textarea.form?.addEventListener("submit", () => {
    textarea.value = view.state.doc.toString();
  });
  // Plan rows and diagnostics link to their line: put the cursor there.
  document.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[data-line]");
    if (!link) return;
    event.preventDefault();
    const line = view.state.doc.line(Math.min(Number(link.dataset.line), view.state.doc.lines));
    view.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
    view.focus();
  });
  window.policyEditor = view;
  if (!readOnly) check(view);
}

start();
