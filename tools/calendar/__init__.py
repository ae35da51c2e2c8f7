"""The calendar: free/busy, meeting slots and events with invitations, on a local file or CalDAV."""
