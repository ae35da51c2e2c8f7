import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ChevronDown, ChevronRight, Pencil, TriangleAlert } from "lucide-react";

// The triage list: one line per conversation (its people, how many messages, its latest
// message and the state it is in now), grouped by what to do with it (respond, notify,
// answered, ignore), the most important first and the rest behind "show more". The arrow
// opens a conversation onto one line per message, each with its own triage. A suspicious row
// shows its warning where the reason and the action would be, and never a reply button; an
// unsure row says so; ignore rows are faded, not hidden. The pencil opens a correction of one
// message (on a conversation's line, the message whose triage it shows): the decision,
// priority or category, as a rule for the sender, their domain or the mailing list. The
// server stores it and rewrites this element, so the row keeps it after a reload. Rows, links
// and menus come from the server as props. In an inbox of several accounts (`props.accounts`
// has more than one), each row shows the account its mail came to in a column of its own.
// Widths and colours are inline styles: only the classes Chainlit's own build uses exist.
const DOT = { error: "#b91c1c", high: "#ef4444", normal: "#f59e0b", low: "#94a3b8" };
const DECISION = {
  error: { label: "Error", color: "#fff", background: "#b91c1c", border: "#b91c1c" },
  respond: { label: "Respond", color: "#fff", background: "#2563eb", border: "#2563eb" },
  notify: { label: "Notify", color: "inherit", background: "transparent", border: "#64748b" },
  ignore: { label: "Ignore", color: "#94a3b8", background: "transparent", border: "transparent" },
  answered: { label: "Answered", color: "#16a34a", background: "transparent", border: "#16a34a" },
};
const GROUP = { woken: "Back from snooze", error: "Unreadable", respond: "Respond", notify: "Notify", answered: "Answered", ignore: "Ignore" };
// A row back from a snooze leads the list under its own heading, whatever its decision; a
// conversation the user wrote last in is answered, whatever its decision.
const groupOf = (row) => (row.woken ? "woken" : row.answered ? "answered" : row.decision);
const WARN = "#dc2626";
const fixed = (width) => ({ width, flexShrink: 0, overflow: "hidden", textOverflow: "ellipsis" });
const pill = (color) => ({
  flexShrink: 0, border: `1px solid ${color}`, color, borderRadius: "9999px",
  padding: "0 0.4rem", fontSize: "0.7rem", lineHeight: "1.1rem",
});
const field = {
  height: "1.75rem", border: "1px solid hsl(var(--border))", borderRadius: "0.375rem",
  background: "hsl(var(--background))", color: "inherit", padding: "0 0.25rem", fontSize: "0.8rem",
};
const words = (value) => String(value || "").replace(/_/g, " ");

function DecisionChip({ decision }) {
  const look = DECISION[decision] || DECISION.notify;
  return (
    <span className="text-center text-xs font-semibold" style={{ ...fixed("4.75rem"), color: look.color, background: look.background, border: `1px solid ${look.border}`, borderRadius: "0.375rem", lineHeight: "1.25rem" }}>
      {look.label}
    </span>
  );
}

function Row({ row, onCorrect, correcting, line, open, onOpen, accounts }) {
  const [busy, setBusy] = useState(false);
  const many = !line && (row.messages || []).length > 0;
  const reply = async () => {
    setBusy(true);
    try {
      await callAction({ name: "suggested_reply", payload: { email_id: row.triaged || row.id, to: row.replyTo } });
    } finally {
      setBusy(false);
    }
  };
  const warned = !!row.warning;
  const said = warned ? `suspicious: ${row.warning}` : row.reason;
  const count = row.count > 1 ? ` · ${row.count} messages` : "";
  const full = `${accounts && row.account ? `${row.account} · ` : ""}${row.answered ? "answered · " : ""}${row.decision} · ${row.priority} · ${row.sender}${count} · ${row.subject} · ${row.category} · ${row.action} — ${said}${row.unsure ? " (unsure)" : ""}`;
  const look = {
    // Ignore rows fade; a suspicious one stays readable: its warning is the point.
    opacity: (row.decision === "ignore" || row.answered) && !warned && !correcting ? 0.55 : 1,
    background: warned ? "rgba(220, 38, 38, 0.10)" : line ? "hsl(var(--accent))" : undefined,
    boxShadow: warned ? `inset 3px 0 0 ${WARN}` : undefined,
    paddingLeft: line ? "1.5rem" : undefined,
  };
  return (
    <li className={`${line ? "triage-message" : "triage-row"} flex items-center gap-2 py-1 text-sm border-b border-border whitespace-nowrap`} style={look} title={full} data-priority={row.priority} data-decision={row.decision} data-group={groupOf(row)} data-count={line ? undefined : row.count || 1} data-suspicious={warned ? "yes" : undefined} data-unsure={row.unsure ? "yes" : undefined} data-yours={row.byYou ? "yes" : undefined} data-woken={row.woken ? "yes" : undefined} data-answered={row.answered ? "yes" : undefined} data-account={accounts ? row.account : undefined}>
      {row.decision ? <DecisionChip decision={row.answered ? "answered" : row.decision} /> : null}
      <span className="inline-block rounded-full" role="img" aria-label={row.priority} style={{ ...fixed("0.5rem"), height: "0.5rem", background: DOT[row.priority] || DOT.low }} />
      {accounts ? (
        <span className="triage-account text-xs text-center text-muted-foreground" style={{ ...fixed("4.5rem"), ...(line ? {} : { border: "1px solid hsl(var(--border))", borderRadius: "0.375rem", lineHeight: "1.25rem" }) }} title={row.account ? `Came to the account ${row.account}` : undefined}>
          {line ? "" : row.account}
        </span>
      ) : null}
      <span className="font-medium" style={{ ...fixed(line ? "6rem" : "6.25rem"), ...(line ? { fontWeight: 400 } : {}) }}>{row.sender}</span>
      {many ? (
        <Button size="sm" variant="ghost" className="triage-open h-6 px-1" style={fixed("2.5rem")} onClick={onOpen} aria-expanded={open} aria-label={`${open ? "Close" : "Open"} the ${row.count} messages of ${row.subject}`} title={`${row.count} messages: ${(row.people || []).join(", ")}`}>
          {open ? <ChevronDown size={14} /> : <ChevronRight size={14} />}
          <span className="triage-count text-xs">{row.count}</span>
        </Button>
      ) : (
        <span className="triage-count text-xs text-muted-foreground text-center" style={fixed("2.5rem")}>{!line && row.count > 1 ? row.count : ""}</span>
      )}
      <a className="hover:underline" style={{ flex: 1, minWidth: 0, display: "flex", gap: "0.4rem", alignItems: "center" }} href={row.url} target="_blank" rel="noopener">
        <span style={{ flex: "0 1 auto", maxWidth: warned ? "35%" : "60%", overflow: "hidden", textOverflow: "ellipsis" }}>{row.subject}</span>
        {row.woken ? <span className="triage-woken" style={pill("#7c3aed")} title="Back from snooze">back</span> : null}
        {row.answered ? <span className="triage-answered" style={pill("#16a34a")} title="You wrote last in this conversation">you replied</span> : null}
        {row.byYou ? <span className="triage-yours" style={pill("#16a34a")}>your rule</span> : null}
        {row.unsure ? <span className="triage-unsure" style={pill("#d97706")} title="The engine is unsure: check this one">unsure</span> : null}
        {warned ? (
          <span className="triage-warning font-medium" style={{ flex: "1 1 0", minWidth: "6rem", overflow: "hidden", textOverflow: "ellipsis", color: WARN, display: "flex", gap: "0.25rem", alignItems: "center" }}>
            <TriangleAlert size={14} style={{ flexShrink: 0 }} aria-label="Suspicious" />
            <span style={{ overflow: "hidden", textOverflow: "ellipsis" }}>{row.warning}</span>
          </span>
        ) : (
          <span className="text-muted-foreground" style={{ flex: "1 1 0", minWidth: "6rem", overflow: "hidden", textOverflow: "ellipsis" }}>{row.reason}</span>
        )}
      </a>
      {warned ? null : <span className="text-right text-muted-foreground" style={fixed("6.25rem")}>{row.action}</span>}
      <span className="text-right text-muted-foreground" style={fixed("5.75rem")}>{row.day}</span>
      {row.replyTo && !warned ? (
        <Button size="sm" variant="outline" className="h-6 px-2" style={fixed("3.5rem")} disabled={busy} onClick={reply} aria-label={`Reply to ${row.replyTo}: ${row.subject}`}>
          Reply
        </Button>
      ) : (
        <span style={fixed("3.5rem")} />
      )}
      {row.fix && row.fix.priority && props.elementId ? (
        <Button size="sm" variant="ghost" className="h-6 px-1" style={fixed("1.75rem")} onClick={onCorrect} aria-expanded={correcting} aria-label={`Correct the triage of ${line ? row.sender : (row.messages || []).find((m) => m.id === row.triaged)?.sender || row.sender}: ${line ? row.subject : (row.messages || []).find((m) => m.id === row.triaged)?.subject || row.subject}`} title="Correct this triage">
          <Pencil size={14} />
        </Button>
      ) : (
        <span style={fixed("1.75rem")} />
      )}
    </li>
  );
}

function scopes(fix) {
  const found = [{ value: "", label: "mail like this (the usual rule)" }];
  if (fix.list) found.push({ value: "list", label: "this mailing list" });
  found.push({ value: "sender", label: `mail from ${fix.address}` });
  if (fix.domain) found.push({ value: "domain", label: `all mail from @${fix.domain}` });
  return found;
}

function Correction({ row, parent, expanded, onSaved, onClose }) {
  const choices = props.choices || {};
  const [chosen, setChosen] = useState({ decision: row.decision, priority: row.fix.priority, category: row.fix.category });
  const [scope, setScope] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  const current = { decision: row.decision, priority: row.fix.priority, category: row.fix.category };
  const save = async () => {
    setBusy(true);
    setProblem("");
    const changed = Object.fromEntries(Object.entries(chosen).filter(([name, value]) => value !== current[name]));
    // Nothing changed: the person confirms the decision as their rule.
    const payload = Object.keys(changed).length ? changed : { decision: chosen.decision };
    try {
      const answer = await callAction({
        name: "correct_triage",
        payload: { ...payload, was: current, email_id: row.triaged || row.id, row_id: parent.id, conversation: parent, scope, element_id: props.elementId, expanded },
      });
      const result = answer && answer.response;
      if (result && result.ok) onSaved(result.row, result.note);
      else setProblem((result && result.error) || "Not saved: the chat did not answer. Try again.");
    } catch (err) {
      setProblem(`Not saved: ${err}`);
    } finally {
      setBusy(false);
    }
  };
  const menu = (name, label) => (
    <select aria-label={label} style={field} value={chosen[name]} disabled={busy} onChange={(e) => setChosen({ ...chosen, [name]: e.target.value })}>
      {(choices[name] || [chosen[name]]).map((value) => (
        <option key={value} value={value}>{words(value)}</option>
      ))}
    </select>
  );
  return (
    <li className="triage-editor flex flex-wrap items-center gap-2 py-2 text-sm border-b border-border" style={{ paddingLeft: "1rem", background: "hsl(var(--accent))" }}>
      <span className="text-muted-foreground">Should be</span>
      {menu("decision", "Decision")}
      {menu("priority", "Priority")}
      {menu("category", "Category")}
      <span className="text-muted-foreground">for</span>
      <select aria-label="Rule covers" style={{ ...field, maxWidth: "16rem" }} value={scope} disabled={busy} onChange={(e) => setScope(e.target.value)}>
        {scopes(row.fix).map((option) => (
          <option key={option.value} value={option.value}>{option.label}</option>
        ))}
      </select>
      <Button size="sm" className="h-7 px-3" disabled={busy} onClick={save}>{busy ? "Saving…" : "Save"}</Button>
      <Button size="sm" variant="ghost" className="h-7 px-2" disabled={busy} onClick={onClose}>Cancel</Button>
      {problem ? <span className="triage-problem w-full" role="alert" style={{ color: WARN }}>{problem}</span> : null}
    </li>
  );
}

export default function TriageList() {
  const [all, setAll] = useState(false);
  const [open, setOpen] = useState("");
  const [opened, setOpened] = useState({});
  const [saved, setSaved] = useState({});
  const rows = (props.rows || []).map((row) => saved[row.id] || row);
  // One account (or one source): no column, nothing to tell apart.
  const accounts = (props.accounts || []).length > 1;
  const shown = all ? rows : rows.slice(0, props.first || rows.length);
  const items = [];
  let group = "";
  const editor = (row, parent, key) => (
    <Correction
      key={`fix-${key}`}
      row={row}
      parent={parent}
      expanded={all}
      onClose={() => setOpen("")}
      onSaved={(next, note) => {
        setSaved({ ...saved, [parent.id]: { ...next, note } });
        setOpen("");
      }}
    />
  );
  shown.forEach((row, index) => {
    // Headings from the order the list was sent in (a corrected row stays where it was);
    // a list kept from before rows had a decision has none.
    const heading = groupOf(props.rows[index] || row);
    if (heading && heading !== group) {
      group = heading;
      items.push(
        <li key={`group-${heading}`} className="triage-group text-xs font-semibold uppercase text-muted-foreground" style={{ padding: "0.6rem 0 0.15rem", letterSpacing: "0.05em" }}>
          {GROUP[heading] || heading} · {(props.rows || []).filter((r) => groupOf(r) === heading).length}
        </li>
      );
    }
    const isOpen = !!opened[row.id];
    items.push(
      <Row key={row.id} row={row} accounts={accounts} correcting={open === row.id} onCorrect={() => setOpen(open === row.id ? "" : row.id)} open={isOpen} onOpen={() => setOpened({ ...opened, [row.id]: !isOpen })} />
    );
    if (open === row.id) {
      items.push(editor(row, row, row.id));
    } else if (row.note) {
      items.push(
        <li key={`note-${row.id}`} className="triage-note text-xs text-muted-foreground py-1 border-b border-border" style={{ paddingLeft: "5.25rem", whiteSpace: "normal" }} role="status">
          {row.note}
        </li>
      );
    }
    if (isOpen) {
      (row.messages || []).forEach((message) => {
        const key = `${row.id}/${message.id}`;
        items.push(<Row key={`line-${key}`} row={message} line accounts={accounts} correcting={open === key} onCorrect={() => setOpen(open === key ? "" : key)} />);
        if (open === key) items.push(editor(message, row, key));
      });
    }
  });
  return (
    <div className="triage-list w-full">
      <ul className="m-0 list-none p-0">{items}</ul>
      {rows.length > shown.length ? (
        <Button size="sm" variant="ghost" className="mt-1" onClick={() => setAll(true)}>
          Show {rows.length - shown.length} more
        </Button>
      ) : null}
    </div>
  );
}
