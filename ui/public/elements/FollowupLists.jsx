import { useState } from "react";
import { Button } from "@/components/ui/button";

// The reply lists under the triage view: conversations that need the user's reply, and those
// where the user awaits someone else's. Each list is a folded section with its count; a row
// names who, the subject (a link to the message) and how long it has waited. A row of the
// awaiting list offers "Follow up", which asks the chat for a follow-up draft on a card.
// Rows come from the server as props; widths are inline styles (see TriageList.jsx).
const fixed = (width) => ({ width, flexShrink: 0, overflow: "hidden", textOverflow: "ellipsis" });

function Row({ row, nudge }) {
  const [busy, setBusy] = useState(false);
  const followUp = async () => {
    setBusy(true);
    try {
      await callAction({ name: "followup_nudge", payload: { person: row.person } });
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="followup-row flex items-center gap-2 py-1 text-sm border-b border-border whitespace-nowrap" title={`${row.who} · ${row.subject} · ${row.day}`}>
      <span className="followup-age text-right text-muted-foreground" style={fixed("3rem")}>{row.age}</span>
      <span className="font-medium" style={fixed("14rem")}>{row.who}</span>
      <a className="hover:underline" style={{ flex: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis" }} href={row.url} target="_blank" rel="noopener">
        {row.subject}
      </a>
      <span className="text-right text-muted-foreground" style={fixed("5.75rem")}>{row.day}</span>
      {nudge && row.person ? (
        <Button size="sm" variant="outline" className="h-6 px-2" style={fixed("5.5rem")} disabled={busy} onClick={followUp} aria-label={`Follow up with ${row.who}: ${row.subject}`}>
          Follow up
        </Button>
      ) : (
        <span style={fixed(nudge ? "5.5rem" : "0")} />
      )}
    </li>
  );
}

function Section({ kind, title, rows, empty, nudge }) {
  return (
    <details className={`followup-section followup-${kind}`} data-count={rows.length} style={{ marginTop: "0.5rem" }}>
      <summary className="followup-heading text-xs font-semibold uppercase text-muted-foreground" style={{ cursor: "pointer", letterSpacing: "0.05em", padding: "0.25rem 0" }}>
        {title} · {rows.length}
      </summary>
      {rows.length ? (
        <ul className="m-0 list-none p-0">
          {rows.map((row) => <Row key={row.id} row={row} nudge={nudge} />)}
        </ul>
      ) : (
        <p className="followup-empty text-sm text-muted-foreground" style={{ margin: "0.25rem 0" }}>{empty}</p>
      )}
    </details>
  );
}

export default function FollowupLists() {
  const days = props.days;
  return (
    <div className="followup-lists w-full">
      <Section kind="needs" title="Needs your reply" rows={props.needs || []} empty="Nobody is waiting on a reply from you." />
      <Section kind="awaited" title={`Awaiting their reply (asked ${days}+ days ago)`} rows={props.awaited || []} empty="Nobody owes you a reply." nudge />
    </div>
  );
}
