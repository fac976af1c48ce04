-- Signed checkpoints of the log (ADR 0010): one row per tree size, the C2SP signed note that
-- vouches for the Merkle root of the first `size` events. Written by every serving node's
-- checkpoint job; two nodes signing one size with one key write the same note, and the first
-- row stands. Append-only like the log. Witness cosignatures are kept beside, not in, the note.
create table vigil.checkpoints (
    size bigint primary key check (size > 0),
    root bytea not null,
    note text not null,
    signed_at bigint not null
);

create trigger checkpoints_append_only before update or delete on vigil.checkpoints
    for each row execute function vigil.refuse_change();
create trigger checkpoints_no_truncate before truncate on vigil.checkpoints
    for each statement execute function vigil.refuse_change();

grant select, insert on vigil.checkpoints to vigil_log_writer;
