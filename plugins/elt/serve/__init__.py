"""Where people look at the marts: the voucher lookup API (serve.api). Reads marts only, as the analyst login role."""
