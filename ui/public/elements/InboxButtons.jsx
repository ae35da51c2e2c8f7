import { useState } from "react";
import { Button } from "@/components/ui/button";

// The chat's own buttons (Triage inbox), kept as an element of the welcome message so that
// they are there again after a reload, a reopened chat and a restart.
export default function InboxButtons() {
  const [busy, setBusy] = useState("");
  const run = async (name) => {
    setBusy(name);
    try {
      await callAction({ name, payload: {} });
    } finally {
      setBusy("");
    }
  };
  return (
    <div className="flex gap-2">
      {(props.buttons || []).map((button) => (
        <Button key={button.name} size="sm" variant="outline" disabled={!!busy} onClick={() => run(button.name)}>
          {busy === button.name ? "Working…" : button.label}
        </Button>
      ))}
    </div>
  );
}
