/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pipeline driver: rings between cores, the RX loop, core loops with idle back-off,
 * and the thread launcher. The RX loop decodes each frame, hands it to its session,
 * and keeps frames the rings had no room for, in order, to retry (a stalled frame is
 * not accepted, so on the wire it would not be acked either).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "xf_path.h"
#include "xf_filter.h"
#include "xf_partial.h"
#include "xf_pipeline_priv.h"
#include "xf_sigcache.h"

#define MODULE "pipeline"

/* Idle back-off: this many empty polls, then short sleeps, so that more threads than
 * CPUs (two appliances on a 2-core test box) make progress. */
#define IDLE_SPINS    64u
#define IDLE_SLEEP_NS 20000l

static atomic_uint ring_seq;

/*
 * Create (or reuse) the directory of partial files in the staging directory
 * (docs/PIPELINE.md, "Partial files"). @return its fd, or -errno.
 */
static int
partial_dir_open(int root_fd)
{
	int xfd, fd;

	if (mkdirat(root_fd, XF_STAGING_DIR, 0700) != 0 && errno != EEXIST) {
		return -errno;
	}
	xfd = openat(root_fd, XF_STAGING_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (xfd < 0) {
		return -errno;
	}
	if (mkdirat(xfd, XF_PARTIAL_DIR, 0700) != 0 && errno != EEXIST) {
		fd = -errno;
	} else {
		fd = openat(xfd, XF_PARTIAL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		fd = fd >= 0 ? fd : -errno;
	}
	close(xfd);
	return fd;
}

/*
 * Create (or reuse) the staging directory and empty it: temp files of a previous run are
 * never committed, since nothing uncommitted survives a restart. A tagged temp file of a
 * large file first becomes a partial file in part_fd (when part_fd >= 0), the basis of
 * its next push; the counts go to st.
 */
static int
staging_open(int root_fd, int part_fd, struct xf_partial_start *st)
{
	int xfd, tfd, dfd;
	DIR *d;
	struct dirent *de;

	if (mkdirat(root_fd, XF_STAGING_DIR, 0700) != 0 && errno != EEXIST) {
		return -errno;
	}
	xfd = openat(root_fd, XF_STAGING_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (xfd < 0) {
		return -errno;
	}
	if (mkdirat(xfd, "tmp", 0700) != 0 && errno != EEXIST) {
		int err = -errno;

		close(xfd);
		return err;
	}
	tfd = openat(xfd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(xfd);
	if (tfd < 0) {
		return -errno;
	}
	dfd = dup(tfd);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		if (dfd >= 0) {
			close(dfd);
		}
		close(tfd);
		return -EIO;
	}
	if (part_fd >= 0) {
		xf_partial_recover(tfd, part_fd, st);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			/* A temp file, or a staged directory and the files in it. */
			xf_pipeline_remove_tree(tfd, de->d_name);
		}
	}
	closedir(d);
	return tfd;
}

/* Open directory name in dir_fd for reading, never through a symlink. 0 or -errno. */
static int
open_nofollow(int dir_fd, const char *name, DIR **out)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		return -errno;
	}
	*out = fdopendir(fd);
	if (*out == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return 0;
}

int
xf_pipeline_remove_tree(int dir_fd, const char *name)
{
	struct dirent *de;
	int rc;
	DIR *d;

	if (unlinkat(dir_fd, name, 0) == 0) {
		return 0;
	}
	if (errno != EISDIR && errno != EPERM) {
		return errno == ENOENT ? 0 : -errno;
	}
	rc = open_nofollow(dir_fd, name, &d);
	if (rc != 0) {
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			int r = xf_pipeline_remove_tree(dirfd(d), de->d_name);

			rc = rc != 0 ? rc : r;
		}
	}
	closedir(d);
	if (unlinkat(dir_fd, name, AT_REMOVEDIR) != 0 && rc == 0) {
		rc = -errno;
	}
	return rc;
}

int
xf_pipeline_dir_empty(int dir_fd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int rc = open_nofollow(dir_fd, name, &d);

	if (rc != 0) {
		return rc == -ELOOP ? -ENOTDIR : rc;
	}
	rc = 1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			rc = 0;
			break;
		}
	}
	closedir(d);
	return rc;
}

/*
 * The permission bits a file created in the staging directory keeps of the mode asked
 * for: the umask's complement, or what a default ACL there allows. A file whose mode
 * survives creation then needs no fchmod at verification (xf_worker_stat.c, stat_decide()): one
 * system call in six for a small file. 0 (every file gets its fchmod) if the probe fails.
 */
static uint32_t
probe_create_keep(int tmp_fd)
{
	static const char probe[] = ".mode-probe"; /* temp names never start with a dot */
	struct stat sb;
	uint32_t keep = 0;
	int fd;

	fd = openat(tmp_fd, probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0777);
	if (fd < 0) {
		return 0;
	}
	if (fstat(fd, &sb) == 0) {
		keep = sb.st_mode & 0777;
	}
	close(fd);
	unlinkat(tmp_fd, probe, 0);
	return keep;
}

/*
 * Can a new file be written to an unnamed temp file (O_TMPFILE) in the staging directory
 * and given its final name by linkat(AT_EMPTY_PATH)? The file system must support
 * O_TMPFILE and the process needs CAP_DAC_READ_SEARCH for the link. Probed once.
 */
static bool
probe_unnamed(int tmp_fd)
{
	static const char probe[] = ".link-probe";
	int fd = openat(tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	bool ok;

	if (fd < 0) {
		return false;
	}
	ok = linkat(fd, "", tmp_fd, probe, AT_EMPTY_PATH) == 0;
	close(fd);
	if (ok) {
		unlinkat(tmp_fd, probe, 0);
	}
	return ok;
}

/*
 * Does every change of a file whose ctime was just read get a later ctime, even within
 * one tick of the coarse clock (multigrain timestamps: Linux 6.13 on XFS, ext4, btrfs,
 * tmpfs)? Then a key taken by fstat cannot be left unchanged by a later write, and a
 * file this receiver commits may get a signature cache entry (docs/DELTA.md, "Signature
 * cache"). Eight reads, each followed at once by a chmod: with coarse timestamps at least
 * one of them lands in the same tick and leaves the ctime as it was.
 */
bool
xf_pipeline_probe_ctime_fine(int tmp_fd)
{
	static const char probe[] = ".ctime-probe";
	int fd = openat(tmp_fd, probe, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	bool fine = fd >= 0;

	for (int i = 0; fine && i < 8; i++) {
		struct stat a, b;

		fine = fstat(fd, &a) == 0 && fchmod(fd, (i & 1) != 0 ? 0600 : 0640) == 0 &&
		       fstat(fd, &b) == 0 &&
		       (b.st_ctim.tv_sec > a.st_ctim.tv_sec ||
		        (b.st_ctim.tv_sec == a.st_ctim.tv_sec &&
		         b.st_ctim.tv_nsec > a.st_ctim.tv_nsec));
	}
	if (fd >= 0) {
		close(fd);
		unlinkat(tmp_fd, probe, 0);
	}
	return fine;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	/* Every file in the window holds its temp fd until commit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
release_paths(struct xf_pipeline *p)
{
	for (unsigned int s = 0; s < p->conf.max_sessions; s++) {
		xf_pathset_release(&p->sessions[s].keep);
		xf_pathset_release(&p->sessions[s].linkable);
		xf_ftable_release(&p->sessions[s].ft);
	}
}

/* Reserve every slot's path sets and file table here, not at a session's HELLO on its RX
 * core: they never allocate after this (xf_pathset.h, xf_ftable.h; the table's entries
 * take the same bound). Where the address space is limited
 * (RLIMIT_AS, or vm.overcommit_memory=2, which charges MAP_NORESERVE in full), the bound
 * is halved until the reservations fit, down to XF_PIPELINE_MIN_PATHS, and the bound
 * taken is logged. @return 0 or ENOMEM. */
static int
reserve_paths(struct xf_pipeline *p)
{
	for (uint32_t max = p->conf.max_paths;; max /= 2) {
		unsigned int s = 0;

		while (s < p->conf.max_sessions &&
		       xf_pathset_reserve(&p->sessions[s].keep, max) == 0 &&
		       xf_pathset_reserve(&p->sessions[s].linkable, max) == 0 &&
		       xf_ftable_reserve(&p->sessions[s].ft, max, p->conf.window) == 0) {
			s++;
		}
		if (s == p->conf.max_sessions) {
			if (max != p->conf.max_paths) {
				XF_LOG(WARNING, MODULE,
				       "path sets and file tables reserved for %u paths per "
				       "session, not %u: longer lists are aborted",
				       max, p->conf.max_paths);
				p->conf.max_paths = max;
			}
			return 0;
		}
		release_paths(p);
		if (max / 2u < XF_PIPELINE_MIN_PATHS) {
			XF_LOG(ERR, MODULE, "cannot reserve the path sets of %u paths per session",
			       max);
			return ENOMEM;
		}
	}
}

struct xf_pipeline *
xf_pipeline_create(const struct xf_pipeline_conf *conf)
{
	struct xf_pipeline *p;
	char name[32];
	int err = EINVAL;

	if (conf->n_rx == 0 || conf->n_rx > XF_PIPELINE_MAX_RX || conf->n_workers == 0 ||
	    conf->n_workers > XF_PIPELINE_MAX_WORKERS || conf->window == 0 ||
	    conf->max_sessions == 0 || conf->max_sessions > 64 || conf->root_fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	p->conf = *conf;
	if (p->conf.ring_size == 0) {
		p->conf.ring_size = 4096;
	}
	if (p->conf.max_file_size == 0) {
		p->conf.max_file_size = XF_PIPELINE_MAX_FILE_SIZE;
	}
	if (p->conf.max_paths == 0) {
		p->conf.max_paths = XF_PIPELINE_MAX_PATHS;
	}
	atomic_init(&p->gen_next, 1);
	p->root_fd = -1;
	p->tmp_fd = -1;
	p->part_fd = -1;
	raise_nofile();
	p->root_fd = openat(conf->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->root_fd < 0) {
		err = errno;
		goto err_destroy;
	}
	{
		struct stat sb;

		/* Names the volume in the table of files whose DELTA failed (xf_worker_delta.c). */
		if (fstat(p->root_fd, &sb) == 0) {
			p->volume_id = ((uint64_t)sb.st_dev << 32) ^ (uint64_t)sb.st_ino;
		}
	}
	p->part_fd = partial_dir_open(p->root_fd);
	if (p->part_fd < 0) {
		err = -p->part_fd;
		goto err_destroy;
	}
	{
		struct xf_partial_start st = { 0 };
		int ev;

		p->tmp_fd = staging_open(p->root_fd, p->part_fd, &st);
		if (p->tmp_fd < 0) {
			err = -p->tmp_fd;
			goto err_destroy;
		}
		/* With partial_max_files 0 every partial goes, and none is kept from now. */
		ev = xf_partial_evict(p->part_fd, p->conf.partial_max_files,
		                      p->conf.partial_max_bytes);
		p->part_recovered = st.recovered;
		p->part_discarded = st.discarded;
		atomic_init(&p->part_kept, 0);
		atomic_init(&p->part_evicted, ev > 0 ? (uint64_t)ev : 0);
		if (p->conf.partial_max_files == 0) {
			close(p->part_fd);
			p->part_fd = -1;
		}
	}
	p->create_keep = probe_create_keep(p->tmp_fd);
	p->unnamed_ok = !conf->named_temps && probe_unnamed(p->tmp_fd);
	p->ctime_fine = xf_pipeline_probe_ctime_fine(p->tmp_fd);
	{
		enum xf_storage_clone mode = XF_STORAGE_CLONE_NONE;
		uint32_t blk = 4096;
		int rc = conf->no_clone ? 0 : xf_storage_clone_probe(p->tmp_fd, &mode, &blk);

		/* The engine logs the result; a failed probe is not fatal: COPY ops then
		 * read and write as on a file system that can do neither. */
		p->clone = (uint8_t)mode;
		p->clone_blk = blk;
		if (rc < 0) {
			XF_LOG(WARNING, MODULE, "clone probe in the staging directory: %s",
			       strerror(-rc));
		}
	}
	p->sessions = calloc(conf->max_sessions, sizeof(*p->sessions));
	if (p->sessions == NULL) {
		err = ENOMEM;
		goto err_destroy;
	}
	err = reserve_paths(p);
	if (err != 0) {
		goto err_destroy;
	}
	/* Each slot's reorder window and signature queue, here rather than at a HELLO. */
	for (unsigned int s = 0; s < conf->max_sessions; s++) {
		struct xf_session *ss = &p->sessions[s];

		ss->ro_val = calloc(conf->window, sizeof(*ss->ro_val));
		ss->ro_full = calloc(conf->window, sizeof(*ss->ro_full));
		ss->sigq_mem = calloc(conf->window, sizeof(*ss->sigq_mem));
		if (ss->ro_val == NULL || ss->ro_full == NULL || ss->sigq_mem == NULL) {
			err = ENOMEM;
			goto err_destroy;
		}
	}
	for (unsigned int r = 0; r < conf->n_rx; r++) {
		p->rx[r].p = p;
		p->rx[r].idx = r;
		p->rx_arg[r] = (struct xf_core_arg){ .p = p, .role = 0, .idx = r };
		for (unsigned int w = 0; w < conf->n_workers; w++) {
			unsigned int seq = atomic_fetch_add(&ring_seq, 1);

			snprintf(name, sizeof(name), "xfp%u_r%uw%u", seq, r, w);
			p->to_w[r][w] =
			        xf_ring_create(name, p->conf.ring_size, sizeof(struct xf_work),
			                       conf->rx_core[r], conf->worker_core[w], -1);
			snprintf(name, sizeof(name), "xfp%u_w%ur%u", seq, w, r);
			p->to_rx[w][r] =
			        xf_ring_create(name, p->conf.ring_size, sizeof(struct xf_done),
			                       conf->worker_core[w], conf->rx_core[r], -1);
			if (p->to_w[r][w] == NULL || p->to_rx[w][r] == NULL) {
				err = errno != 0 ? errno : ENOMEM;
				goto err_destroy;
			}
		}
	}
	for (unsigned int w = 0; w < conf->n_workers; w++) {
		unsigned int seq = atomic_fetch_add(&ring_seq, 1);

		snprintf(name, sizeof(name), "xfp%u_sc%u", seq, w);
		p->sc_note[w] = xf_ring_create(
		        name, p->conf.ring_size, sizeof(struct xf_sigcache_key),
		        conf->worker_core[XF_COMMIT_WORKER], conf->worker_core[w], -1);
		if (p->sc_note[w] == NULL) {
			err = errno != 0 ? errno : ENOMEM;
			goto err_destroy;
		}
	}
	for (unsigned int w = 0; w < conf->n_workers; w++) {
		p->sig_ring[w] = xf_lease_create(XF_SIG_RING_BYTES);
		if (p->sig_ring[w] == NULL) {
			err = ENOMEM;
			goto err_destroy;
		}
	}
	for (unsigned int w = 0; w < conf->n_workers; w++) {
		p->w_arg[w] = (struct xf_core_arg){ .p = p, .role = 1, .idx = w };
		p->w[w] = xf_worker_create(p, w);
		if (p->w[w] == NULL) {
			err = errno != 0 ? errno : ENOMEM;
			goto err_destroy;
		}
	}
	return p;
err_destroy:
	xf_pipeline_destroy(p);
	errno = err;
	return NULL;
}

void
xf_pipeline_destroy(struct xf_pipeline *p)
{
	if (p == NULL) {
		return;
	}
	for (unsigned int w = 0; w < XF_PIPELINE_MAX_WORKERS; w++) {
		xf_worker_destroy(p->w[w]);
	}
	for (unsigned int r = 0; r < XF_PIPELINE_MAX_RX; r++) {
		struct xf_rxcore *rc = &p->rx[r];

		for (unsigned int i = rc->stalled_pos; i < rc->nstalled; i++) {
			if (p->conf.release != NULL) {
				p->conf.release(p->conf.release_arg, rc->stalled[i].owner);
			}
		}
		for (unsigned int w = 0; w < XF_PIPELINE_MAX_WORKERS; w++) {
			xf_ring_free(p->to_w[r][w]);
			xf_ring_free(p->to_rx[w][r]);
		}
	}
	for (unsigned int s = 0; p->sessions != NULL && s < p->conf.max_sessions; s++) {
		xf_session_fini(&p->sessions[s]);
	}
	if (p->sessions != NULL) {
		release_paths(p);
		for (unsigned int s = 0; s < p->conf.max_sessions; s++) {
			free(p->sessions[s].ro_val);
			free(p->sessions[s].ro_full);
			free(p->sessions[s].sigq_mem);
		}
	}
	free(p->sessions);
	for (unsigned int w = 0; w < XF_PIPELINE_MAX_WORKERS; w++) {
		/* After the sessions: they give back the signatures they still hold. Arrays
		 * left in the rings between the cores go with the ring's memory. */
		xf_lease_destroy(p->sig_ring[w]);
		xf_ring_free(p->sc_note[w]);
	}
	if (p->tmp_fd >= 0) {
		close(p->tmp_fd);
	}
	if (p->part_fd >= 0) {
		close(p->part_fd);
	}
	if (p->root_fd >= 0) {
		close(p->root_fd);
	}
	free(p);
}

struct xf_session *
xf_pipeline_session_open(struct xf_pipeline *p, unsigned int rx, uint32_t addr, uint16_t port,
                         uint32_t id, uint16_t max_payload, uint32_t flags, xf_pipeline_tx_fn tx,
                         void *tx_arg)
{
	struct xf_rxcore *rc;
	struct xf_session *s = NULL;
	int rv;

	if (rx >= p->conf.n_rx || id == 0 || tx == NULL || max_payload < XF_PAYLOAD_MIN ||
	    max_payload > XF_PAYLOAD_MAX) {
		errno = EINVAL;
		return NULL;
	}
	rc = &p->rx[rx];
	if (rc->nsess == XF_ARRAY_SIZE(rc->sess)) {
		errno = EBUSY;
		return NULL;
	}
	/* The slots are the pipeline's and every RX core opens sessions: a slot is won by a
	 * compare-and-swap, never by a plain look at it. Two lanes' HELLOs answered on two
	 * cores at once took one slot that way, and both sessions then wrote one struct
	 * (e2e-push-lanes-modes stalled; unit-pipeline "sessions opened on two RX cores at
	 * once"). Once per session, off the frame path. */
	for (unsigned int i = 0; i < p->conf.max_sessions && s == NULL; i++) {
		bool free_slot = false;

		if (!atomic_load_explicit(&p->sessions[i].claimed, memory_order_relaxed) &&
		    atomic_compare_exchange_strong_explicit(&p->sessions[i].claimed, &free_slot,
		                                            true, memory_order_acquire,
		                                            memory_order_relaxed)) {
			s = &p->sessions[i];
		}
	}
	if (s == NULL) {
		errno = EBUSY;
		return NULL;
	}
	rv = xf_session_init(s, p, (uint16_t)(s - p->sessions), (uint16_t)rx, addr, port, id,
	                     max_payload);
	if (rv < 0) {
		atomic_store_explicit(&s->claimed, false, memory_order_release);
		errno = -rv;
		return NULL;
	}
	s->tx = tx;
	s->tx_arg = tx_arg;
	s->flags = flags;
	rc->sess[rc->nsess++] = s;
	atomic_fetch_add(&p->nopen, 1);
	return s;
}

void
xf_pipeline_session_set_tx_room(struct xf_session *s, xf_pipeline_tx_room_fn room)
{
	s->tx_room = room;
}

void
xf_pipeline_session_set_delete(struct xf_session *s, const char *dest, size_t dest_len,
                               uint32_t max_delete)
{
	if ((s->flags & XF_HELLO_F_DELETE) == 0) {
		return;
	}
	s->del_conf.max_delete = max_delete;
	/* From the wire: a destination the file list could not name is never walked. */
	if (dest_len != 0 &&
	    (xf_path_validate(dest, dest_len) != 0 || xf_session_names_staging(dest, dest_len))) {
		s->del_broken = true;
		return;
	}
	s->del_dest = malloc(dest_len + 1);
	if (s->del_dest == NULL) {
		s->del_broken = true;
		return;
	}
	memcpy(s->del_dest, dest, dest_len);
	s->del_dest[dest_len] = '\0';
	s->del_conf.dest = s->del_dest;
	s->del_conf.dest_len = dest_len;
	if ((s->flags & XF_HELLO_F_ITEMIZE) != 0) {
		/* From now on: a directory a type change replaces lists what it held at its
		 * commit (docs/PIPELINE.md, "Type changes"), before the walk lists the rest.
		 * The commit worker fills it; the RX core reads it after the walk. */
		s->del_list.skip = dest_len != 0 ? dest_len + 1 : 0;
		s->del_conf.item = xf_delete_list_add;
		s->del_conf.item_arg = &s->del_list;
	}
}

void
xf_pipeline_session_set_protect(struct xf_session *s, const char *rules, size_t rules_len)
{
	struct xf_filter *f;
	char why[160];
	size_t at = 0;
	unsigned int line = 1;

	if ((s->flags & (XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS)) !=
	            (XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS) ||
	    s->del_broken) {
		return;
	}
	f = xf_filter_new();
	if (f == NULL) {
		s->del_broken = true;
		return;
	}
	while (at < rules_len) {
		const char *nl = memchr(rules + at, '\n', rules_len - at);
		size_t len = nl != NULL ? (size_t)(nl - (rules + at)) : rules_len - at;

		if (xf_filter_add(f, XF_FILTER_FORM_RULE, rules + at, len, why, sizeof(why)) < 0) {
			XF_LOG(WARNING, MODULE,
			       "session %08x: filter rule %u refused (%s): nothing will be deleted",
			       s->id, line, why);
			s->p->rx[s->rx].stats.delete_rules_refused++;
			xf_filter_free(f);
			s->del_broken = true;
			return;
		}
		at += len + 1;
		line++;
	}
	s->del_protect = f;
	s->del_conf.protect = f;
}

int
xf_pipeline_session_close(struct xf_pipeline *p, struct xf_session *s)
{
	struct xf_rxcore *rc = &p->rx[s->rx];

	if (!xf_session_is_done(s)) {
		return -EBUSY;
	}
	for (unsigned int i = 0; i < rc->nsess; i++) {
		if (rc->sess[i] == s) {
			rc->sess[i] = rc->sess[--rc->nsess];
			break;
		}
	}
	xf_session_fini(s);
	atomic_fetch_sub(&p->nopen, 1);
	atomic_fetch_sub(&p->ndone, 1);
	/* Last: the slot's state is let go before another core can win it. */
	atomic_store_explicit(&s->claimed, false, memory_order_release);
	return 0;
}

static void
release(struct xf_pipeline *p, void *owner)
{
	if (p->conf.release != NULL) {
		p->conf.release(p->conf.release_arg, owner);
	}
}

/* @return 0 done with the frame (released or kept by a worker), -EAGAIN retry later. */
static int
rx_frame(struct xf_pipeline *p, struct xf_rxcore *rc, const struct xf_frame *fr)
{
	struct xf_msg m;
	struct xf_session *s = NULL;
	int rv;

	if (xf_proto_decode(fr->buf, fr->len, &m, NULL) != 0) {
		rc->stats.bad_frames++;
		release(p, fr->owner);
		return 0;
	}
	/* By (address, port, id), as the engine keys its sessions: another peer that uses
	 * the same id never reaches this one. */
	for (unsigned int i = 0; i < rc->nsess; i++) {
		if (rc->sess[i]->id == m.hdr.session && rc->sess[i]->addr == fr->addr &&
		    rc->sess[i]->port == fr->port) {
			s = rc->sess[i];
			break;
		}
	}
	if (s == NULL) {
		rc->stats.no_session++;
		release(p, fr->owner);
		return 0;
	}
	rv = xf_session_input(s, &m, fr->owner);
	if (rv == -EAGAIN) {
		return -EAGAIN;
	}
	if (rv != 1) {
		release(p, fr->owner);
	}
	return 0;
}

/*
 * A completion of a session that is closed, or whose slot a new session took: counted and
 * let go, never settled (the slot's reorder window is gone or another session's). It
 * cannot happen while every session is drained before it closes; this is the second
 * line. Its temp fd is closed (a named temp file stays until the next start empties the
 * staging directory) and its signatures given back.
 */
static void
stale_done(struct xf_rxcore *rc, const struct xf_done *d)
{
	rc->stats.stale_done++;
	XF_LOG(ERR, MODULE, "completion %u of file %u for slot %u generation %u dropped (stale)",
	       d->type, d->file, d->sid, d->gen);
	if (d->type == XF_DONE_STAT) {
		xf_lease_free(d->sigs);
	} else if (d->type == XF_DONE_FILE && d->fd >= 0) {
		close(d->fd);
	}
}

int
xf_pipeline_rx_poll(struct xf_pipeline *p, unsigned int rx)
{
	struct xf_rxcore *rc = &p->rx[rx];
	struct xf_done dones[64];
	struct xf_frame frames[RX_BURST];
	int busy = 0;
	unsigned int n;

	for (unsigned int w = 0; w < p->conf.n_workers; w++) {
		n = xf_ring_dequeue_burst(p->to_rx[w][rx], dones, XF_ARRAY_SIZE(dones));
		for (unsigned int i = 0; i < n; i++) {
			struct xf_session *s = dones[i].sid < p->conf.max_sessions
			                               ? &p->sessions[dones[i].sid]
			                               : NULL;

			if (s == NULL || !s->used || s->gen != dones[i].gen) {
				stale_done(rc, &dones[i]);
				continue;
			}
			xf_session_done(s, &dones[i]);
		}
		busy |= n != 0;
	}
	/* Commits first: they free window slots that the frames below may need. */
	for (unsigned int i = 0; i < rc->nsess; i++) {
		busy |= xf_session_progress(rc->sess[i]);
	}
	while (rc->stalled_pos < rc->nstalled) {
		if (rx_frame(p, rc, &rc->stalled[rc->stalled_pos]) != 0) {
			rc->stats.stalls++;
			break;
		}
		rc->stalled_pos++;
		busy = 1;
	}
	if (rc->stalled_pos == rc->nstalled && p->conf.source[rx] != NULL) {
		rc->stalled_pos = rc->nstalled = 0;
		n = p->conf.source[rx](p->conf.source_arg[rx], frames, RX_BURST);
		rc->stats.frames += n;
		for (unsigned int i = 0; i < n; i++) {
			if (rx_frame(p, rc, &frames[i]) != 0) {
				/* Keep this one and the rest, in order, for the next poll. */
				memcpy(rc->stalled, &frames[i], (n - i) * sizeof(frames[0]));
				rc->nstalled = n - i;
				rc->stats.stalls++;
				break;
			}
		}
		busy |= n != 0;
	}
	for (unsigned int i = 0; i < rc->nsess; i++) {
		busy |= xf_session_progress(rc->sess[i]);
	}
	return busy;
}

int
xf_pipeline_worker_poll(struct xf_pipeline *p, unsigned int w)
{
	return xf_worker_poll(p->w[w]);
}

static void
backoff(unsigned int *idle)
{
	struct timespec ts = { .tv_nsec = IDLE_SLEEP_NS };

	if (++*idle > IDLE_SPINS) {
		nanosleep(&ts, NULL);
	}
}

int
xf_pipeline_core_loop(void *arg)
{
	struct xf_core_arg *a = arg;
	struct xf_pipeline *p = a->p;
	unsigned int idle = 0;

	xf_core_set_self(a->role == 0 ? p->conf.rx_core[a->idx] : p->conf.worker_core[a->idx]);
	while (!atomic_load_explicit(&p->stop, memory_order_acquire)) {
		int busy = a->role == 0 ? xf_pipeline_rx_poll(p, a->idx)
		                        : xf_pipeline_worker_poll(p, a->idx);

		if (busy) {
			idle = 0;
		} else {
			backoff(&idle);
		}
	}
	/* A worker finishes what it has in flight (closes, late completions). */
	while (a->role == 1 && !xf_worker_idle(p->w[a->idx])) {
		if (!xf_pipeline_worker_poll(p, a->idx)) {
			backoff(&idle);
		}
	}
	return 0;
}

void *
xf_pipeline_core_arg(struct xf_pipeline *p, int role, unsigned int idx)
{
	return role == 0 ? (void *)&p->rx_arg[idx] : (void *)&p->w_arg[idx];
}

static void *
thread_main(void *arg)
{
	xf_pipeline_core_loop(arg);
	return NULL;
}

int
xf_pipeline_run_threads(struct xf_pipeline *p)
{
	pthread_t th[XF_PIPELINE_MAX_RX + XF_PIPELINE_MAX_WORKERS];
	unsigned int n = 0;
	int rv = 0;

	/* A pipeline may run again after a stop (tests: one pipeline, sessions in turn). */
	atomic_store_explicit(&p->stop, false, memory_order_release);
	for (unsigned int r = 0; r < p->conf.n_rx && rv == 0; r++) {
		rv = -pthread_create(&th[n], NULL, thread_main, &p->rx_arg[r]);
		n += rv == 0;
	}
	for (unsigned int w = 0; w < p->conf.n_workers && rv == 0; w++) {
		rv = -pthread_create(&th[n], NULL, thread_main, &p->w_arg[w]);
		n += rv == 0;
	}
	if (rv != 0) {
		xf_pipeline_stop(p);
	}
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
	}
	return rv;
}

void
xf_pipeline_stop(struct xf_pipeline *p)
{
	atomic_store_explicit(&p->stop, true, memory_order_release);
}

void
xf_pipeline_set_fault(struct xf_pipeline *p, xf_pipeline_fault_fn fn, void *arg)
{
	p->fault = fn;
	p->fault_arg = arg;
	for (unsigned int w = 0; w < p->conf.n_workers; w++) {
		xf_worker_set_fault(p->w[w]);
	}
}

const struct xf_pipeline_rx_stats *
xf_pipeline_rx_stats(const struct xf_pipeline *p, unsigned int rx)
{
	return &p->rx[rx].stats;
}

/* Summed and named word by word, so a counter added to the struct is summed too (and its
 * name must be added here: the assertion checks the count). */
_Static_assert(sizeof(struct xf_pipeline_rx_stats) % sizeof(uint64_t) == 0,
               "struct xf_pipeline_rx_stats holds uint64_t counters only");

const char *const xf_pipeline_rx_stats_names[] = {
	"frames",
	"bad_frames",
	"no_session",
	"proto_err",
	"stalls",
	"data_dropped",
	"dry_dropped",
	"entries_dup",
	"proto_aborts",
	"stale_done",
	"links_refused",
	"zip_refused",
	"delete_rules_refused",
	"delete_protected",
	"redo_stale",
	"redo_unasked",
	"redo_no_room",
	"names_refused",
	"xattr_malformed",
	"xattr_crc",
	"xattr_name",
	"xattr_value",
	"xattr_count",
	"xattr_total",
	"entries_given_up",
	"paths_over",
	"entries_over",
	"data_ends",
};
_Static_assert(sizeof(xf_pipeline_rx_stats_names) / sizeof(xf_pipeline_rx_stats_names[0]) ==
                       XF_PIPELINE_RX_STATS_N,
               "a name for every counter of struct xf_pipeline_rx_stats");

void
xf_pipeline_rx_stats_add(const struct xf_pipeline *p, struct xf_pipeline_rx_stats *out)
{
	uint64_t *sum = (uint64_t *)out;

	for (unsigned int r = 0; r < p->conf.n_rx; r++) {
		/* volatile: one load per word, never cached or split (the RX core writes) */
		const volatile uint64_t *c = (const volatile uint64_t *)&p->rx[r].stats;

		for (size_t i = 0; i < XF_PIPELINE_RX_STATS_N; i++) {
			sum[i] += c[i];
		}
	}
}

void
xf_pipeline_times(const struct xf_pipeline *p, struct xf_pipeline_times *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int w = 0; w < p->conf.n_workers; w++) {
		xf_worker_add_times(p->w[w], t);
	}
	t->partial_kept = atomic_load_explicit(&p->part_kept, memory_order_relaxed);
	t->partial_evicted = atomic_load_explicit(&p->part_evicted, memory_order_relaxed);
	t->partial_discarded = p->part_discarded;
	t->partial_recovered = p->part_recovered;
}

void
xf_pipeline_rings(const struct xf_pipeline *p, xf_pipeline_ring_fn fn, void *arg)
{
	for (unsigned int r = 0; r < p->conf.n_rx; r++) {
		for (unsigned int w = 0; w < p->conf.n_workers; w++) {
			fn(arg, p->to_w[r][w]);
			fn(arg, p->to_rx[w][r]);
		}
	}
}

int
xf_pipeline_clone_mode(const struct xf_pipeline *p)
{
	return p->clone;
}
