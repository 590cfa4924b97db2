/*
 * format_ocsf_map.h - which OCSF class, activity and status a OneLogin event
 * type is, and the captions the OCSF schema gives those ids. Used by
 * format_ocsf.c; the table of every catalog type is in docs/formats.md.
 */
#ifndef OLA_FORMAT_OCSF_MAP_H
#define OLA_FORMAT_OCSF_MAP_H

#include <stdbool.h>

#include "agent/core/event.h"

#define OLA_OCSF_VERSION "1.8.0"

/* What the type name and categories say; 0 in an id means "not said". */
struct ola_ocsf_class {
    int class_uid;        /* 3001..3006 */
    int activity_id;      /* 99: Other, activity_name is then the type name */
    int status_id;        /* 1 Success, 2 Failure, 0 Unknown */
    int auth_protocol_id; /* 3002 only */
    int logon_type_id;    /* 3002 only */
    int switch_type_id;   /* 3002 Account Switch only */
    bool is_mfa;          /* 3002: the type is an MFA step */
    const char *subject;  /* 3006: "role" or "group" fields name the group */
};

/* Fills c for event e of type name (NULL when the catalog does not know it). */
void ola_ocsf_classify(const struct ola_event *e, const char *name,
                       struct ola_ocsf_class *c);
/*
 * Entity Management (3004) for name, by the verb in it: the class of a type
 * whose own class needs a user or group the event does not name.
 */
void ola_ocsf_entity_class(const char *name, struct ola_ocsf_class *c);

/* Captions from the schema (static strings); NULL when the id has none. */
const char *ola_ocsf_class_name(int class_uid);
const char *ola_ocsf_activity_name(int class_uid, int activity_id);
const char *ola_ocsf_status_name(int status_id);
const char *ola_ocsf_auth_protocol_name(int id);
const char *ola_ocsf_logon_type_name(int id);

#endif
