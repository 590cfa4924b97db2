/*
 * olsim users, roles and apps: generated once from the tenant seed.
 *
 * Users get ids from 40000001 in small random steps, a (first, last) name pair (user 0
 * is always "Zoë Ångström"), a department, title, group, usual IP, roles (always
 * Employee) and a manager; a few are deleted or locked. Roles and apps get irregular ids.
 * Every id is offset by the tenant's id_offset (0 for t1). Names are looked up from
 * tables here when rendering, never stored.
 */
#include "sim.h"
#include "sim_tenant_priv.h"

#include <stdio.h>
#include <stdlib.h>

/* Index 0 of each list makes user 0 "Zoë Ångström". */
static const struct olsim_name olsim_firsts[] = {
    {"Zoë", "zoe"},
    {"James", "james"},
    {"Mary", "mary"},
    {"Robert", "robert"},
    {"Patricia", "patricia"},
    {"John", "john"},
    {"Jennifer", "jennifer"},
    {"Michael", "michael"},
    {"Linda", "linda"},
    {"David", "david"},
    {"Elizabeth", "elizabeth"},
    {"William", "william"},
    {"Barbara", "barbara"},
    {"Richard", "richard"},
    {"Susan", "susan"},
    {"José", "jose"},
    {"Jessica", "jessica"},
    {"Thomas", "thomas"},
    {"Sarah", "sarah"},
    {"Siobhán", "siobhan"},
    {"Łukasz", "lukasz"},
    {"Renée", "renee"},
    {"Søren", "soren"},
    {"Chloé", "chloe"},
    {"Priya", "priya"},
    {"Wei", "wei"},
    {"Aisha", "aisha"},
    {"Kenji", "kenji"},
    {"Olga", "olga"},
    {"Mateo", "mateo"},
    {"Fatima", "fatima"},
    {"Noah", "noah"},
    {"Emma", "emma"},
    {"Liam", "liam"},
    {"Ava", "ava"},
    {"Lucas", "lucas"},
    {"Mia", "mia"},
    {"Karen", "karen"},
    {"Joseph", "joseph"},
    {"Charles", "charles"},
};

static const struct olsim_name olsim_lasts[] = {
    {"Ångström", "angstrom"},     {"Smith", "smith"},       {"Johnson", "johnson"},
    {"Williams", "williams"},     {"Brown", "brown"},       {"Jones", "jones"},
    {"Garcia", "garcia"},         {"Miller", "miller"},     {"Davis", "davis"},
    {"O'Brien", "obrien"},        {"Martinez", "martinez"}, {"Hernandez", "hernandez"},
    {"Lopez", "lopez"},           {"Müller", "mueller"},    {"Wilson", "wilson"},
    {"Anderson", "anderson"},     {"Thomas", "thomas"},     {"Taylor", "taylor"},
    {"Moore", "moore"},           {"Nguyen", "nguyen"},     {"Kowalski", "kowalski"},
    {"Østergaard", "ostergaard"}, {"Dubois", "dubois"},     {"Tanaka", "tanaka"},
    {"Patel", "patel"},           {"Kim", "kim"},           {"Rossi", "rossi"},
    {"Novák", "novak"},           {"Schmidt", "schmidt"},   {"Cohen", "cohen"},
    {"Ivanova", "ivanova"},       {"Silva", "silva"},       {"Okafor", "okafor"},
    {"Haddad", "haddad"},         {"Larsen", "larsen"},     {"Chen", "chen"},
    {"Jackson", "jackson"},       {"Martin", "martin"},     {"Lee", "lee"},
    {"Walker", "walker"},
};

#define OLSIM_NFIRST (sizeof(olsim_firsts) / sizeof(olsim_firsts[0]))
#define OLSIM_NLAST  (sizeof(olsim_lasts) / sizeof(olsim_lasts[0]))
#define OLSIM_NPAIRS (OLSIM_NFIRST * OLSIM_NLAST)

const char *const olsim_depts[] = {
    "Engineering", "Sales",   "Marketing",  "Finance", "Human Resources",
    "Legal",       "Support", "Operations", "IT",      "Research & Development",
};
const char *const olsim_titles[] = {
    "Engineer", "Senior Engineer", "Account Executive", "Manager",    "Director",
    "Analyst",  "Specialist",      "Administrator",     "Consultant", "VP",
};
static const char *const olsim_role_names[] = {
    "Employee", "Admin",       "Sales",    "Engineering", "Finance",
    "Support",  "Contractors", "Security", "Marketing",   "Executives",
    "HR",       "Legal",       "IT Ops",   "Read Only",   "Auditors",
};
static const char *const olsim_app_names[] = {
    "Salesforce",       "Slack",   "AWS Console", "GitHub", "Zoom",    "Workday",
    "Google Workspace", "Jira",    "Confluence",  "Box",    "Dropbox", "ServiceNow",
    "Zendesk",          "Tableau", "DocuSign",
};
const char *const olsim_groups[] = {
    "Headquarters", "Remote", "EMEA", "APAC", "Contractors",
};

/* ---- users, roles, apps ---- */

const struct olsim_name *olsim_first(const struct olsim_user *u)
{
    return &olsim_firsts[u->name % OLSIM_NFIRST];
}

const struct olsim_name *olsim_last(const struct olsim_user *u)
{
    return &olsim_lasts[(u->name / OLSIM_NFIRST + u->name) % OLSIM_NLAST];
}

void olsim_user_display(const struct olsim_user *u, char *out, size_t outsz)
{
    int n =
        snprintf(out, outsz, "%s %s", olsim_first(u)->display, olsim_last(u)->display);

    if (n < 0 || (size_t)n >= outsz)
        out[0] = '\0';
}

void olsim_user_login(const struct olsim_user *u, char *out, size_t outsz)
{
    int n;

    if (u->suffix)
        n = snprintf(out, outsz, "%s.%s%u", olsim_first(u)->ascii, olsim_last(u)->ascii,
                     (unsigned)u->suffix);
    else
        n = snprintf(out, outsz, "%s.%s", olsim_first(u)->ascii, olsim_last(u)->ascii);
    if (n < 0 || (size_t)n >= outsz)
        out[0] = '\0';
}

const char *olsim_role_name(const struct olsim_tenant *t, uint32_t ri, char *tmp,
                            size_t tmpsz)
{
    size_t nn = sizeof(olsim_role_names) / sizeof(olsim_role_names[0]);
    int n;

    (void)t;
    if (ri < nn)
        return olsim_role_names[ri];
    n = snprintf(tmp, tmpsz, "Role %u", (unsigned)ri + 1);
    if (n < 0 || (size_t)n >= tmpsz)
        return "Role";
    return tmp;
}

const char *olsim_app_name(size_t ai, char *tmp, size_t tmpsz)
{
    size_t nn = sizeof(olsim_app_names) / sizeof(olsim_app_names[0]);
    int n;

    if (ai < nn)
        return olsim_app_names[ai];
    n = snprintf(tmp, tmpsz, "Custom App %zu", ai + 1);
    if (n < 0 || (size_t)n >= tmpsz)
        return "App";
    return tmp;
}

int olsim_user_has_role(const struct olsim_user *u, uint16_t r)
{
    uint8_t i;

    for (i = 0; i < u->nroles; i++)
        if (u->roles[i] == r)
            return 1;
    return 0;
}

uint32_t olsim_random_ip(struct olsim_rng *rng)
{
    static const uint8_t firsts[] = {24,  45,  67,  73,  81,  98,
                                     104, 142, 176, 185, 203, 212};
    uint32_t a = firsts[olsim_rng_below(rng, sizeof(firsts))];

    return a << 24 | (olsim_rng_below(rng, 256) << 16) |
           (olsim_rng_below(rng, 256) << 8) | (1 + olsim_rng_below(rng, 254));
}

int olsim_users_make(struct olsim_tenant *t, size_t n, int64_t now)
{
    struct olsim_rng *rng = &t->rng;
    int64_t id = 40000001 + t->id_offset;
    size_t off = olsim_rng_below(rng, OLSIM_NPAIRS);
    size_t ndel = 0;
    size_t i;

    t->users = calloc(n ? n : 1, sizeof(*t->users));
    t->admins = calloc(n ? n : 1, sizeof(*t->admins));
    if (!t->users || !t->admins)
        return -1;
    t->nusers = n;
    for (i = 0; i < n; i++) {
        struct olsim_user *u = &t->users[i];
        size_t k;
        uint8_t want;

        u->id = id;
        id += 1 + olsim_rng_below(rng, 7);
        if (i == 0)
            u->name = 0;
        else if (i < OLSIM_NPAIRS)
            u->name = (uint16_t)(1 + (i - 1 + off) % (OLSIM_NPAIRS - 1));
        else
            u->name = (uint16_t)((i + off) % OLSIM_NPAIRS);
        u->suffix = (uint16_t)(i / OLSIM_NPAIRS);
        u->seed = (uint32_t)olsim_rng_next(rng);
        u->dept =
            (uint8_t)olsim_rng_below(rng, sizeof(olsim_depts) / sizeof(olsim_depts[0]));
        u->title =
            (uint8_t)olsim_rng_below(rng, sizeof(olsim_titles) / sizeof(olsim_titles[0]));
        u->status = 1;
        u->state = 1;
        u->group = olsim_rng_below(rng, 4) == 0
                       ? 0xff
                       : (uint8_t)olsim_rng_below(rng, sizeof(olsim_groups) /
                                                           sizeof(olsim_groups[0]));
        u->ip = olsim_random_ip(rng);
        u->created_ms = now - (int64_t)(30 + olsim_rng_below(rng, 1500)) * 86400000LL -
                        olsim_rng_below(rng, 86400000);
        u->pw_changed_ms = now - (int64_t)olsim_rng_below(rng, 200) * 86400000LL -
                           olsim_rng_below(rng, 86400000);
        if (u->pw_changed_ms < u->created_ms)
            u->pw_changed_ms = u->created_ms + 3600000;
        u->updated_ms = u->pw_changed_ms + olsim_rng_below(rng, 86400000);
        if (u->updated_ms > now)
            u->updated_ms = now - 1000;
        u->last_login_ms = olsim_rng_below(rng, 10) == 0
                               ? 0
                               : now - (int64_t)olsim_rng_below(rng, 30 * 86400) * 1000;
        u->manager = (i > 0 && olsim_rng_below(rng, 5) != 0)
                         ? olsim_rng_below(rng, (uint32_t)i)
                         : OLSIM_NONE;
        want = (uint8_t)(1 + olsim_rng_below(rng, 3));
        if (t->nroles > 0) {
            u->roles[u->nroles++] = 0;
            for (k = 0; k < 8 && u->nroles < want && u->nroles < t->nroles; k++) {
                uint16_t r = (uint16_t)olsim_rng_below(rng, (uint32_t)t->nroles);

                if (!olsim_user_has_role(u, r))
                    u->roles[u->nroles++] = r;
            }
        }
        if (olsim_rng_below(rng, 50) == 0 && i > 0) {
            u->deleted = 1;
            ndel++;
        } else if (olsim_rng_below(rng, 40) == 0) {
            u->status = 3;
            u->locked_until_ms = now + olsim_rng_below(rng, 3600) * 1000LL;
            u->invalid_logins = 5;
        }
    }
    /* Small tenants still get one deleted user, so a 404 is always testable. */
    if (ndel == 0 && n >= 20)
        t->users[n - 1].deleted = 1;
    if (t->nroles > 1 && n > 0 && !olsim_user_has_role(&t->users[0], 1) &&
        t->users[0].nroles < 8)
        t->users[0].roles[t->users[0].nroles++] = 1;
    for (i = 0; i < n; i++)
        if (!t->users[i].deleted &&
            (t->nroles <= 1 || olsim_user_has_role(&t->users[i], 1)))
            t->admins[t->nadmins++] = (uint32_t)i;
    if (t->nadmins == 0 && n > 0)
        t->admins[t->nadmins++] = 0;
    return 0;
}

int olsim_roles_apps_make(struct olsim_tenant *t, size_t nroles, size_t napps)
{
    int64_t id = 700001 + t->id_offset;
    size_t i;

    t->roles = calloc(nroles ? nroles : 1, sizeof(*t->roles));
    t->app_ids = calloc(napps ? napps : 1, sizeof(*t->app_ids));
    if (!t->roles || !t->app_ids)
        return -1;
    t->nroles = nroles;
    for (i = 0; i < nroles; i++) {
        t->roles[i].id = id;
        id += 1 + olsim_rng_below(&t->rng, 40);
    }
    t->napps = napps;
    id = 1200001 + t->id_offset;
    for (i = 0; i < napps; i++) {
        t->app_ids[i] = id;
        id += 3 + olsim_rng_below(&t->rng, 97);
    }
    return 0;
}

uint32_t olsim_tenant_user_index(const struct olsim_tenant *t, int64_t id)
{
    size_t lo = 0;
    size_t hi = t->nusers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->users[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->nusers && t->users[lo].id == id)
        return (uint32_t)lo;
    return OLSIM_NONE;
}

uint32_t olsim_tenant_role_index(const struct olsim_tenant *t, int64_t id)
{
    size_t i;

    for (i = 0; i < t->nroles; i++)
        if (t->roles[i].id == id)
            return (uint32_t)i;
    return OLSIM_NONE;
}
