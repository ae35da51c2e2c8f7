import { useState } from "react";
import { Button } from "@/components/ui/button";

// The triage list: one line per message, the most important first, the rest behind
// "show more". Rows, links and reply buttons come from the server as props; a row's full
// text is in its tooltip. Opening a message follows a plain link to the mail page.
// Widths and colours are inline styles: only the classes Chainlit's own build uses exist.
const DOT = { error: "#b91c1c", high: "#ef4444", normal: "#f59e0b", low: "#94a3b8" };
const fixed = (width) => ({ width, flexShrink: 0, overflow: "hidden", textOverflow: "ellipsis" });

function Row({ row }) {
  const [busy, setBusy] = useState(false);
  const reply = async () => {
    setBusy(true);
    try {
      await callAction({ name: "suggested_reply", payload: { email_id: row.id, to: row.replyTo } });
    } finally {
      setBusy(false);
    }
  };
  const full = `${row.priority} · ${row.sender} · ${row.subject} · ${row.category} · ${row.action} — ${row.reason}`;
  return (
    <li className="triage-row flex items-center gap-2 py-1 text-sm border-b border-border whitespace-nowrap" title={full} data-priority={row.priority}>
      <span className="inline-block rounded-full" role="img" aria-label={row.priority} style={{ ...fixed("0.5rem"), height: "0.5rem", background: DOT[row.priority] || DOT.low }} />
      <span className="font-medium" style={fixed("8.5rem")}>{row.sender}</span>
      <a className="hover:underline" style={{ flex: 1, minWidth: 0, display: "flex", gap: "0.4rem" }} href={row.url} target="_blank" rel="noopener">
        <span style={{ flex: "0 1 auto", maxWidth: "55%", overflow: "hidden", textOverflow: "ellipsis" }}>{row.subject}</span>
        <span className="text-muted-foreground" style={{ flex: "1 1 0", minWidth: "6rem", overflow: "hidden", textOverflow: "ellipsis" }}>{row.reason}</span>
      </a>
      <span className="text-right text-muted-foreground" style={fixed("6.5rem")}>{row.action}</span>
      <span className="text-right text-muted-foreground" style={fixed("5.75rem")}>{row.day}</span>
      {row.replyTo ? (
        <Button size="sm" variant="outline" className="h-6 px-2" style={fixed("3.5rem")} disabled={busy} onClick={reply} aria-label={`Reply to ${row.replyTo}: ${row.subject}`}>
          Reply
        </Button>
      ) : (
        <span style={fixed("3.5rem")} />
      )}
    </li>
  );
}

export default function TriageList() {
  const [all, setAll] = useState(false);
  const rows = props.rows || [];
  const shown = all ? rows : rows.slice(0, props.first || rows.length);
  return (
    <div className="triage-list w-full">
      <ul className="m-0 list-none p-0">
        {shown.map((row) => (
          <Row key={row.id} row={row} />
        ))}
      </ul>
      {rows.length > shown.length ? (
        <Button size="sm" variant="ghost" className="mt-1" onClick={() => setAll(true)}>
          Show {rows.length - shown.length} more
        </Button>
      ) : null}
    </div>
  );
}
