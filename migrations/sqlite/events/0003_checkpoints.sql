-- Signed checkpoints of the log (ADR 0010): one row per tree size, the C2SP signed note that
-- vouches for the Merkle root of the first `size` events. Written by every serving node's
-- checkpoint job; two nodes signing one size with one key write the same note, and the first
-- row stands. Append-only like the log. Witness cosignatures are kept beside, not in, the note.
create table checkpoints (
    size integer primary key check (size > 0),
    root blob not null,
    note text not null,
    signed_at integer not null
);

create trigger checkpoints_refuse_update before update on checkpoints
begin select raise(abort, 'vigil: checkpoints are append-only'); end;
create trigger checkpoints_refuse_delete before delete on checkpoints
begin select raise(abort, 'vigil: checkpoints are append-only'); end;
