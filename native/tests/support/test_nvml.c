/* libkm_test_nvml.so: a real shared library exporting the NVML entry points
 * Keymate uses, so tests drive the very dlopen path the product uses
 * (nvmlOpen(path) or KEYMATE_NVML_LIB=path) without touching a real card.
 * Our own implementation with NVML's documented signatures, codes and units.
 *
 * Scripted by files, read at nvmlInit_v2 when no other init is active:
 *   KM_TEST_NVML_TRACE  a CSV trace, one row per sample:
 *                         t_ms,temp_c,power_w,fan_pct,util_pct[,procs]
 *                       '#' lines and a header line are skipped. An empty
 *                       field is a sensor dropout: that reading fails with
 *                       NVML_ERROR_UNKNOWN. procs: processes on the GPU,
 *                       ';'-separated "pid:mib" (compute) or "gpid:mib"
 *                       (graphics), e.g. "4242:1500;g777:300".
 *                       Without a trace: one row 0,40,20,30,5.
 *   KM_TEST_NVML_GPUS   number of GPUs (default 1, at most 8), all on the trace
 *   KM_TEST_NVML_FANS   fans per GPU (default 2; 0 = a GPU without fan sensor)
 *   KM_TEST_NVML_INIT_FAIL  nvmlInit_v2 returns this code (e.g. 9, driver not loaded)
 * and, read on every set call:
 *   KM_TEST_NVML_LOG    every set call is appended as one line:
 *                         "power_limit <gpu> <mW>", "fan <gpu> <fan> <pct>",
 *                         "fan_auto <gpu> <fan>"; a refused call ends with
 *                         " denied" (no permission) or " invalid" (bad value)
 *   KM_TEST_NVML_DENY=1 every set returns NVML_ERROR_NO_PERMISSION
 *
 * Time is a STEP COUNTER, not the wall clock: each nvmlDeviceGetTemperature
 * call on a GPU moves that GPU to the next trace row (the first call reads
 * row 0; the last row holds when the trace ends); every other reading comes
 * from the current row. Energy is the integral of the reported power over the
 * trace's t_ms column (W x ms = mJ).
 *
 * The card it models: 80 W default power limit in [40, 115] W, thresholds
 * shutdown 105 / slowdown 102 / gpu max 87 C, 8 GiB. The reported power is
 * the trace's clamped to the current limit, with "power-cap" set when the
 * limit bites; a fan set by nvmlDeviceSetFanSpeed_v2 reads back its set value
 * until nvmlDeviceSetDefaultFanSpeed_v2. nvmlDeviceGetPowerUsage is the mean
 * of the last 4 rows (an averaged reading); NVML_FI_DEV_POWER_INSTANT the row.
 *
 * Deliberately absent, to prove Keymate tolerates them missing:
 * nvmlDeviceGetFanSpeed_v2 (only the one-fan nvmlDeviceGetFanSpeed),
 * nvmlDeviceGetCurrentClocksEventReasons (only the older ...ThrottleReasons
 * name), and the _v2 / unversioned process queries (only _v3). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_UNKNOWN = 999
};

typedef struct Gpu* nvmlDevice_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;
typedef union {
  double dVal;
  unsigned int uiVal;
  unsigned long ulVal;
  unsigned long long ullVal;
  long long sllVal;
  int siVal;
  unsigned short usVal;
} nvmlValue_t;
typedef struct {
  unsigned int fieldId, scopeId;
  long long timestamp, latencyUsec;
  int valueType;
  nvmlReturn_t nvmlReturn;
  nvmlValue_t value;
} nvmlFieldValue_t;

#define MAX_GPUS 8
#define MAX_FANS 8
#define MAX_PROCS 16
#define AVG_ROWS 4
#define FIELD_POWER_INSTANT 186
#define VALUE_TYPE_UNSIGNED_INT 1
#define MIB (1024ull * 1024ull)

/* Default power limit and range (mW), thresholds (C), memory (MiB). */
#define LIMIT_DEFAULT_MW 80000u
#define LIMIT_MIN_MW 40000u
#define LIMIT_MAX_MW 115000u
#define TEMP_SHUTDOWN 105u
#define TEMP_SLOWDOWN 102u
#define TEMP_GPU_MAX 87u
#define MEM_TOTAL_MIB 8192ull
#define MEM_BASE_MIB 512ull

typedef struct {
  unsigned int pid;
  double mib;
  int graphics;
} Proc;

typedef struct {
  double t_ms;
  double temp, power, fan, util;  /* < 0: dropout */
  int nprocs;
  Proc procs[MAX_PROCS];
} Row;

struct Gpu {
  int index;
  long cursor;             /* current row; -1 before the first temperature read */
  double energy_mj;
  unsigned int limit_mw;
  int fan_set[MAX_FANS];   /* -1 = automatic (the trace's value) */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_inits = 0;
static Row* g_rows = NULL;
static long g_nrows = 0;
static int g_ngpus = 1;
static int g_nfans = 2;
static struct Gpu g_gpus[MAX_GPUS];
static char g_error[512] = "";  /* why init failed, told by nvmlErrorString(UNKNOWN) */

static int env_int(const char* name, int fallback, int lo, int hi) {
  const char* v = getenv(name);
  if (!v || !*v) return fallback;
  long n = strtol(v, NULL, 10);
  return n < lo ? lo : n > hi ? hi : (int)n;
}

/* One CSV field as a number; empty or unparsable -> -1 (a dropout). */
static double field(const char** p) {
  const char* s = *p;
  while (*s == ' ' || *s == '\t') s++;
  char* end = (char*)s;
  double v = -1;
  if (*s != ',' && *s != '\n' && *s != '\r' && *s) {
    v = strtod(s, &end);
    if (end == s) v = -1;
  }
  while (*end && *end != ',' && *end != '\n') end++;
  *p = *end == ',' ? end + 1 : end;
  return v;
}

static void parse_procs(const char* s, Row* r) {
  while (*s && *s != '\n' && r->nprocs < MAX_PROCS) {
    while (*s == ' ' || *s == ';') s++;
    if (!*s || *s == '\n' || *s == '\r') break;
    Proc pr = {0, 0, 0};
    if (*s == 'g') {
      pr.graphics = 1;
      s++;
    }
    char* end;
    pr.pid = (unsigned int)strtoul(s, &end, 10);
    if (end == s) break;
    s = end;
    if (*s == ':') {
      pr.mib = strtod(s + 1, &end);
      s = end;
    }
    r->procs[r->nprocs++] = pr;
  }
}

static int load_trace(const char* path) {
  free(g_rows);
  g_rows = NULL;
  g_nrows = 0;
  if (!path || !*path) {
    g_rows = calloc(1, sizeof(Row));
    if (!g_rows) return -1;
    g_rows[0] = (Row){0, 40, 20, 30, 5, 0, {{0, 0, 0}}};
    g_nrows = 1;
    return 0;
  }
  FILE* f = fopen(path, "r");
  if (!f) {
    snprintf(g_error, sizeof g_error, "test NVML: KM_TEST_NVML_TRACE %s: %s", path, strerror(errno));
    return -1;
  }
  char line[1024];
  long cap = 0;
  while (fgets(line, sizeof line, f)) {
    const char* p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == '\r' || !*p) continue;
    if (!(*p >= '0' && *p <= '9') && *p != '-' && *p != '.') continue; /* the header */
    if (g_nrows == cap) {
      cap = cap ? cap * 2 : 64;
      Row* grown = realloc(g_rows, (size_t)cap * sizeof(Row));
      if (!grown) {
        fclose(f);
        return -1;
      }
      g_rows = grown;
    }
    Row* r = &g_rows[g_nrows];
    memset(r, 0, sizeof *r);
    r->t_ms = field(&p);
    r->temp = field(&p);
    r->power = field(&p);
    r->fan = field(&p);
    r->util = field(&p);
    parse_procs(p, r);
    g_nrows++;
  }
  fclose(f);
  if (g_nrows == 0) {
    snprintf(g_error, sizeof g_error, "test NVML: KM_TEST_NVML_TRACE %s: no rows", path);
    return -1;
  }
  return 0;
}

static const Row* row(const struct Gpu* g) {
  long i = g->cursor < 0 ? 0 : g->cursor;
  return &g_rows[i];
}

/* The power the card reports: the trace's, held to the current limit. */
static double reported_power(const struct Gpu* g, const Row* r) {
  if (r->power < 0) return -1;
  double cap = g->limit_mw / 1000.0;
  return r->power > cap ? cap : r->power;
}

static int valid(nvmlDevice_t d) {
  return g_inits > 0 && d >= g_gpus && d < g_gpus + g_ngpus;
}

#define ENTER(dev)                          \
  pthread_mutex_lock(&g_lock);              \
  if (!valid(dev)) {                        \
    pthread_mutex_unlock(&g_lock);          \
    return g_inits > 0 ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED; \
  }
#define LEAVE(code)                 \
  do {                              \
    pthread_mutex_unlock(&g_lock);  \
    return (code);                  \
  } while (0)

static void log_set(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_set(const char* fmt, ...) {
  const char* path = getenv("KM_TEST_NVML_LOG");
  if (!path || !*path) return;
  FILE* f = fopen(path, "a");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

static int denied(void) {
  const char* v = getenv("KM_TEST_NVML_DENY");
  return v && strcmp(v, "1") == 0;
}

/* ---- init, errors, system ------------------------------------------------ */

EXPORT nvmlReturn_t nvmlInit_v2(void) {
  pthread_mutex_lock(&g_lock);
  int fail = env_int("KM_TEST_NVML_INIT_FAIL", 0, 0, 999);
  if (fail) LEAVE(fail);
  if (g_inits == 0) {
    g_error[0] = 0;
    if (load_trace(getenv("KM_TEST_NVML_TRACE")) != 0) LEAVE(NVML_ERROR_UNKNOWN);
    g_ngpus = env_int("KM_TEST_NVML_GPUS", 1, 0, MAX_GPUS);
    g_nfans = env_int("KM_TEST_NVML_FANS", 2, 0, MAX_FANS);
    for (int i = 0; i < MAX_GPUS; i++) {
      g_gpus[i].index = i;
      g_gpus[i].cursor = -1;
      g_gpus[i].energy_mj = 0;
      g_gpus[i].limit_mw = LIMIT_DEFAULT_MW;
      for (int f = 0; f < MAX_FANS; f++) g_gpus[i].fan_set[f] = -1;
    }
  }
  g_inits++;
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
  pthread_mutex_lock(&g_lock);
  if (g_inits == 0) LEAVE(NVML_ERROR_UNINITIALIZED);
  if (--g_inits == 0) {
    /* The library may be unloaded next (dlclose): nothing may stay allocated. */
    free(g_rows);
    g_rows = NULL;
    g_nrows = 0;
  }
  LEAVE(NVML_SUCCESS);
}

EXPORT const char* nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_UNKNOWN: return g_error[0] ? g_error : "Unknown Error";
    default: return "Unknown Error";
  }
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  const char* v = "0.0.0-keymate-test";
  if (!version) return NVML_ERROR_INVALID_ARGUMENT;
  if (length <= strlen(v)) return NVML_ERROR_INSUFFICIENT_SIZE;
  strcpy(version, v);
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  pthread_mutex_lock(&g_lock);
  if (g_inits == 0) LEAVE(NVML_ERROR_UNINITIALIZED);
  if (!count) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  *count = (unsigned int)g_ngpus;
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  pthread_mutex_lock(&g_lock);
  if (g_inits == 0) LEAVE(NVML_ERROR_UNINITIALIZED);
  if (!device || index >= (unsigned int)g_ngpus) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  *device = &g_gpus[index];
  LEAVE(NVML_SUCCESS);
}

/* ---- identity ------------------------------------------------------------ */

static nvmlReturn_t copy_text(char* out, unsigned int length, const char* text) {
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  if (length <= strlen(text)) return NVML_ERROR_INSUFFICIENT_SIZE;
  strcpy(out, text);
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* name, unsigned int length) {
  ENTER(d);
  char text[64];
  snprintf(text, sizeof text, "Keymate Test GPU %d", d->index);
  LEAVE(copy_text(name, length, text));
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* uuid, unsigned int length) {
  ENTER(d);
  char text[64];
  snprintf(text, sizeof text, "GPU-6b6d7465-7374-4e56-4d4c-%012d", d->index);
  LEAVE(copy_text(uuid, length, text));
}

/* ---- temperature (advances the trace) ------------------------------------ */

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int* temp) {
  ENTER(d);
  if (sensor != 0 || !temp) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  if (d->cursor + 1 < g_nrows) {
    if (d->cursor >= 0) {
      /* Energy over the step just left, at the power reported during it. */
      const Row* from = &g_rows[d->cursor];
      const Row* to = &g_rows[d->cursor + 1];
      double p = reported_power(d, from);
      if (p > 0 && to->t_ms > from->t_ms) d->energy_mj += p * (to->t_ms - from->t_ms);
    }
    d->cursor++;
  }
  const Row* r = row(d);
  if (r->temp < 0) LEAVE(NVML_ERROR_UNKNOWN);
  *temp = (unsigned int)(r->temp + 0.5);
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t d, int which, unsigned int* temp) {
  ENTER(d);
  if (!temp) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  switch (which) {
    case 0: *temp = TEMP_SHUTDOWN; break;
    case 1: *temp = TEMP_SLOWDOWN; break;
    case 3: *temp = TEMP_GPU_MAX; break;
    default: LEAVE(NVML_ERROR_NOT_SUPPORTED);
  }
  LEAVE(NVML_SUCCESS);
}

/* ---- power and energy ---------------------------------------------------- */

EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int* mw) {
  ENTER(d);
  if (!mw) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  long last = d->cursor < 0 ? 0 : d->cursor;
  double sum = 0;
  int n = 0;
  for (long i = last; i >= 0 && i > last - AVG_ROWS; i--) {
    double p = reported_power(d, &g_rows[i]);
    if (p >= 0) sum += p, n++;
  }
  if (n == 0) LEAVE(NVML_ERROR_UNKNOWN);
  *mw = (unsigned int)(sum / n * 1000.0 + 0.5);
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t d, int count, nvmlFieldValue_t* values) {
  ENTER(d);
  if (count < 0 || (count > 0 && !values)) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  for (int i = 0; i < count; i++) {
    nvmlFieldValue_t* v = &values[i];
    v->timestamp = 0;
    v->latencyUsec = 0;
    double p = reported_power(d, row(d));
    if (v->fieldId == FIELD_POWER_INSTANT && v->scopeId == 0 && p >= 0) {
      v->valueType = VALUE_TYPE_UNSIGNED_INT;
      v->value.uiVal = (unsigned int)(p * 1000.0 + 0.5);
      v->nvmlReturn = NVML_SUCCESS;
    } else {
      v->nvmlReturn = p < 0 && v->fieldId == FIELD_POWER_INSTANT ? NVML_ERROR_UNKNOWN : NVML_ERROR_NOT_SUPPORTED;
    }
  }
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long* mj) {
  ENTER(d);
  if (!mj) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  *mj = (unsigned long long)(d->energy_mj + 0.5);
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int* mw) {
  ENTER(d);
  if (!mw) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  *mw = d->limit_mw;
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int* mw) {
  return nvmlDeviceGetPowerManagementLimit(d, mw);
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t d, unsigned int* mw) {
  ENTER(d);
  if (!mw) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  *mw = LIMIT_DEFAULT_MW;
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t d, unsigned int* lo,
                                                                  unsigned int* hi) {
  ENTER(d);
  if (!lo || !hi) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  *lo = LIMIT_MIN_MW;
  *hi = LIMIT_MAX_MW;
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t d, unsigned int mw) {
  ENTER(d);
  if (denied()) {
    log_set("power_limit %d %u denied", d->index, mw);
    LEAVE(NVML_ERROR_NO_PERMISSION);
  }
  if (mw < LIMIT_MIN_MW || mw > LIMIT_MAX_MW) {
    log_set("power_limit %d %u invalid", d->index, mw);
    LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  }
  d->limit_mw = mw;
  log_set("power_limit %d %u", d->index, mw);
  LEAVE(NVML_SUCCESS);
}

/* ---- fans ---------------------------------------------------------------- */

EXPORT nvmlReturn_t nvmlDeviceGetNumFans(nvmlDevice_t d, unsigned int* n) {
  ENTER(d);
  if (!n) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  *n = (unsigned int)g_nfans;
  LEAVE(NVML_SUCCESS);
}

/* Fan 0's speed only: the pre-_v2 call. */
EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t d, unsigned int* pct) {
  ENTER(d);
  if (!pct) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  if (g_nfans == 0) LEAVE(NVML_ERROR_NOT_SUPPORTED);
  if (d->fan_set[0] >= 0) {
    *pct = (unsigned int)d->fan_set[0];
    LEAVE(NVML_SUCCESS);
  }
  const Row* r = row(d);
  if (r->fan < 0) LEAVE(NVML_ERROR_UNKNOWN);
  *pct = (unsigned int)(r->fan + 0.5);
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceSetFanSpeed_v2(nvmlDevice_t d, unsigned int fan, unsigned int pct) {
  ENTER(d);
  if (denied()) {
    log_set("fan %d %u %u denied", d->index, fan, pct);
    LEAVE(NVML_ERROR_NO_PERMISSION);
  }
  if (fan >= (unsigned int)g_nfans || pct > 100) {
    log_set("fan %d %u %u invalid", d->index, fan, pct);
    LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  }
  d->fan_set[fan] = (int)pct;
  log_set("fan %d %u %u", d->index, fan, pct);
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceSetDefaultFanSpeed_v2(nvmlDevice_t d, unsigned int fan) {
  ENTER(d);
  if (denied()) {
    log_set("fan_auto %d %u denied", d->index, fan);
    LEAVE(NVML_ERROR_NO_PERMISSION);
  }
  if (fan >= (unsigned int)g_nfans) {
    log_set("fan_auto %d %u invalid", d->index, fan);
    LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  }
  d->fan_set[fan] = -1;
  log_set("fan_auto %d %u", d->index, fan);
  LEAVE(NVML_SUCCESS);
}

/* ---- clocks, memory, utilisation, throttling ------------------------------ */

EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, int type, unsigned int* mhz) {
  ENTER(d);
  if (!mhz) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  const Row* r = row(d);
  if (r->util < 0) LEAVE(NVML_ERROR_UNKNOWN);
  if (type == 1) *mhz = 210u + (unsigned int)(r->util * 18.0); /* SM: 210 idle .. 2010 busy */
  else if (type == 2) *mhz = r->util > 0 ? 8001u : 405u;        /* MEM */
  else LEAVE(NVML_ERROR_NOT_SUPPORTED);
  LEAVE(NVML_SUCCESS);
}

static double process_mib(const Row* r) {
  double sum = 0;
  for (int i = 0; i < r->nprocs; i++) sum += r->procs[i].mib;
  return sum;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) {
  ENTER(d);
  if (!m) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  unsigned long long used = (MEM_BASE_MIB + (unsigned long long)process_mib(row(d))) * MIB;
  m->total = MEM_TOTAL_MIB * MIB;
  m->used = used < m->total ? used : m->total;
  m->free = m->total - m->used;
  LEAVE(NVML_SUCCESS);
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  ENTER(d);
  if (!u) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  const Row* r = row(d);
  if (r->util < 0) LEAVE(NVML_ERROR_UNKNOWN);
  u->gpu = (unsigned int)(r->util + 0.5);
  u->memory = u->gpu / 2;
  LEAVE(NVML_SUCCESS);
}

/* The pre-CUDA-12.2 name only. Bits: idle 0x1, sw power cap 0x4, sw thermal
 * 0x20, hw thermal 0x40. */
EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t d, unsigned long long* bits) {
  ENTER(d);
  if (!bits) LEAVE(NVML_ERROR_INVALID_ARGUMENT);
  const Row* r = row(d);
  unsigned long long b = 0;
  if (r->util == 0) b |= 0x1ull;
  if (r->power >= 0 && r->power > d->limit_mw / 1000.0) b |= 0x4ull;
  if (r->temp >= TEMP_GPU_MAX) b |= 0x20ull;
  if (r->temp >= TEMP_SLOWDOWN) b |= 0x40ull;
  *bits = b;
  LEAVE(NVML_SUCCESS);
}

/* ---- processes (_v3 only) -------------------------------------------------- */

static nvmlReturn_t processes(nvmlDevice_t d, int graphics, unsigned int* count, nvmlProcessInfo_t* infos) {
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  const Row* r = row(d);
  unsigned int n = 0;
  for (int i = 0; i < r->nprocs; i++) n += r->procs[i].graphics == graphics;
  if (*count < n || (n > 0 && !infos)) {
    *count = n;
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  unsigned int k = 0;
  for (int i = 0; i < r->nprocs; i++) {
    if (r->procs[i].graphics != graphics) continue;
    infos[k].pid = r->procs[i].pid;
    infos[k].usedGpuMemory = (unsigned long long)(r->procs[i].mib * (double)MIB);
    infos[k].gpuInstanceId = 0xFFFFFFFFu;
    infos[k].computeInstanceId = 0xFFFFFFFFu;
    k++;
  }
  *count = n;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int* count,
                                                             nvmlProcessInfo_t* infos) {
  ENTER(d);
  LEAVE(processes(d, 0, count, infos));
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t d, unsigned int* count,
                                                              nvmlProcessInfo_t* infos) {
  ENTER(d);
  LEAVE(processes(d, 1, count, infos));
}
