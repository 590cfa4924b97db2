/*
 * event.h - events and batches: the unit of work of the pipeline.
 *
 * A batch is one page of events. It owns the page body and every parsed
 * event (one json_t reference each). An event keeps a pointer to its
 * original bytes inside the body, so outputs can emit exactly what OneLogin
 * sent, with the "olagent" object spliced in before the closing brace
 * (format_json.c). Records the agent makes itself (alerts) have no raw bytes
 * and are serialized from their tree. Filters and outputs borrow events; no
 * json_t of a batch ever crosses a thread. The trees parsed from the body
 * live in the batch's arena (arena.h) and die all at once at reset, without
 * a walk of each tree: so an admitted event's tree is read-only (filters add
 * to e->ola, never to e->ev), and nothing keeps a reference into it past
 * its batch.
 */
#ifndef OLA_EVENT_H
#define OLA_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Severity set by rules, CEF-style 0..10; -1 when no rule set one. */
#define OLA_SEVERITY_UNSET (-1)

/* The most outputs one agent runs: each is a bit of routes and refused below. */
#define OLA_MAX_OUTPUTS 16

enum ola_record_kind {
    OLA_REC_EVENT = 0, /* a OneLogin event */
    OLA_REC_ALERT = 1, /* an alert raised by a stateful rule */
};

struct ola_event {
    enum ola_record_kind kind;
    json_t *ev;         /* parsed event; the batch owns this reference */
    const char *raw;    /* original bytes of the event object; NULL for alerts */
    size_t raw_len;     /* raw[raw_len - 1] == '}' */
    int64_t id;         /* OneLogin event id; 0 for alerts */
    int64_t created_ms; /* created_at, ms since the epoch */
    json_t *ola;        /* the "olagent" object to splice in, owned; NULL if none */
    uint32_t routes;    /* bit i: output with index i takes this record */
    uint32_t refused;   /* bit i: output i refused it for good (dead-lettered) */
    int severity;       /* OLA_SEVERITY_UNSET or 0..10 */
    bool dropped;       /* dropped by a rule (counted, never emitted) */
};

struct ola_batch {
    struct ola_event *ev; /* owned array */
    size_t n;
    size_t cap;
    uint64_t seq; /* batch number, increasing */
    char *body;   /* owned page body; raw pointers point into it */
    size_t body_len;
    size_t body_cap; /* bytes allocated at body, when its source says (else 0) */
    char *spare;     /* owned: the last body's memory, kept by reset for the next */
    size_t spare_cap;
    json_t *tenant_json;     /* owned: the tenant's name, once stamped; reset drops it */
    int64_t fetched_mono_ms; /* when the page arrived, for batch latency */
    struct ola_arena *arena; /* owned; the parsed events' memory, made on first use */
    const char *tenant;      /* borrowed: the tenant's name; NULL reads as "default" */
};

/* The name a batch with no tenant set goes by (one tenant, `onelogin:` alone). */
#define OLA_TENANT_DEFAULT "default"
/* The longest tenant name ([a-z0-9_-]{1,32}): outputs size what holds one by it. */
#define OLA_TENANT_NAME_MAX 32

void ola_batch_init(struct ola_batch *b);
/* Releases events, ola objects and the body; keeps the array and the tenant, and
 * the body's memory as b's spare when its size is known (body_cap) and the body
 * filled at least an eighth of it. */
void ola_batch_reset(struct ola_batch *b);
/*
 * The memory of an earlier body, for a source that reads the next one itself
 * (replay): returns it (the caller owns it) with its size in *cap, or NULL.
 * Reading each batch into fresh memory would fault in and unmap a megabyte
 * per batch (a third of replay's system time).
 */
char *ola_batch_take_spare(struct ola_batch *b, size_t *cap);
void ola_batch_free(struct ola_batch *b);
/* Returns the memory kept for the next batch (the arena, the event array, the
 * spare body) to the system when b is empty (idle times). */
void ola_batch_trim(struct ola_batch *b);
/* b's tenant: b->tenant, or OLA_TENANT_DEFAULT when none is set. Borrowed. */
const char *ola_batch_tenant(const struct ola_batch *b);
/* True when name is a tenant name: 1..OLA_TENANT_NAME_MAX of [a-z0-9_-]. */
bool ola_tenant_name_valid(const char *name);
/*
 * Brackets the work on b's events (their parsing, then the whole pipeline):
 * Jansson values made in between are cut from b's arena and must not outlive
 * the next reset. What is kept past the batch (the catalog's event types, the
 * enricher's trees while hot) is made outside it: ola_arena_enter(NULL) or an
 * arena of its own (arena.h); text from json_dumps through ola_json_dumps.
 * Returns what to pass to ola_batch_leave.
 */
struct ola_arena *ola_batch_enter(struct ola_batch *b);
void ola_batch_leave(struct ola_arena *prev);
/*
 * Appends an event. ev: stolen (the batch owns the reference, also on
 * failure). raw may be NULL. Returns a pointer to the new slot or NULL (ENOMEM).
 * The slot starts with routes = all, severity unset, ola NULL; an alert added
 * after ola_batch_stamp_tenant starts with ola = {"tenant": the batch's}.
 */
struct ola_event *ola_batch_add(struct ola_batch *b, enum ola_record_kind kind,
                                json_t *ev, const char *raw, size_t raw_len);
/*
 * Sets "tenant": ola_batch_tenant(b) in the olagent object of every record of
 * b, and of every alert added to b from now until the next reset, so rules
 * can match olagent.tenant and every output record carries it: one JSON
 * string shared by all of them. Returns 0 / -1 (ENOMEM: some records lack it).
 */
int ola_batch_stamp_tenant(struct ola_batch *b);
/* Removes events for which keep[i] is false, preserving order. */
void ola_batch_compact(struct ola_batch *b, const bool *keep);
/* Stable sort by (created_ms, id). */
void ola_batch_sort(struct ola_batch *b);

/*
 * The largest event accepted, in bytes, whatever its source. A page is capped at
 * 64 MiB by the HTTP client, so this is the bound that holds for one event.
 */
#define OLA_EVENT_MAX_BYTES ((size_t)8 << 20)
/* Room for a refusal reason of ola_event_admit. */
#define OLA_EVENT_WHY_MAX 128

/*
 * Admits one event from its bytes raw[0..len): the one check every source
 * applies (the API's pages, `olagent replay`). Refused: more than
 * OLA_EVENT_MAX_BYTES, a NUL byte (Jansson skips one after a number), not
 * valid JSON (bad UTF-8, a key twice, too deep), not an object, no positive
 * integer id, no ISO-8601 created_at. An admitted event is parsed into b's
 * arena, its whitespace outside strings squeezed out of raw in place (one
 * record per line), and appended to b with id and created_ms set; raw must
 * live as long as b (b->body or inside it). A refused one is left as it was,
 * with the reason in why (why_size bytes, OLA_EVENT_WHY_MAX is enough).
 * Returns 1 admitted, 0 refused, -1 out of memory.
 */
int ola_event_admit(struct ola_batch *b, char *raw, size_t len, char *why,
                    size_t why_size);

/*
 * The event's "olagent" object, created empty on first use. Returns a
 * borrowed reference (owned by the event) or NULL on ENOMEM.
 */
json_t *ola_event_ola(struct ola_event *e);
/* Adds tag to olagent.tags (an array), once. Returns 0 / -1. */
int ola_event_add_tag(struct ola_event *e, const char *tag);
/*
 * The same with the tag as a JSON string shared by many events (borrowed;
 * the array takes a new reference). Returns 0 / -1 (not a string, ENOMEM).
 */
int ola_event_add_tag_json(struct ola_event *e, json_t *tag);
/* Borrowed string member of the event, or NULL if absent or not a string. */
const char *ola_event_str(const struct ola_event *e, const char *key);
/* Integer member; returns false if absent or not an integer. */
bool ola_event_int(const struct ola_event *e, const char *key, long long *out);

#endif
