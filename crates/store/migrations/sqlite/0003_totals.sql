-- What the vendor had of each stream when a full listing last went through it whole, and how
-- much of it stayed out of the workspace and why (JSON text, see `store::VendorTotals`).
ALTER TABLE sync_state ADD COLUMN totals TEXT;
