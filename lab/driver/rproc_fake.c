// SPDX-License-Identifier: GPL-2.0
/*
 * rproc_fake: a fake remoteproc platform driver for the rproc-supervisor lab.
 *
 * One platform device "rproc_fake.<i>" and one rproc per processor; the processors and their options
 * come from module parameters (one array element per processor), mirroring the processor objects of a
 * `kernel run` document. The real remoteproc core (CONFIG_REMOTEPROC, CONFIG_REMOTEPROC_CDEV) does the
 * rest: sysfs, /dev/remoteprocN, the power count, recovery, coredumps.
 *
 * Knobs and oracles per processor in debugfs, /sys/kernel/debug/rproc_fake/<i>/ (see README.md):
 * status, calls, crash, suspend, resume, fail_<op>, delay_<op>_ms. They stay after an unbind (the
 * module keeps a reference to the rproc), so the power count of a removed processor is still readable.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/elf.h>
#include <linux/firmware.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/remoteproc.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#define DRV_NAME "rproc_fake"
#define FAKE_MAX 8

enum fake_op { OP_START, OP_STOP, OP_ATTACH, OP_DETACH, OP_LOAD, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "start", "stop", "attach", "detach", "load" };

static int procs = 1;
module_param(procs, int, 0444);
MODULE_PARM_DESC(procs, "number of processors (1..8)");

static char *names[FAKE_MAX];
static int names_n;
module_param_array(names, charp, &names_n, 0444);
MODULE_PARM_DESC(names, "driver-given names (default fake<i>)");

static char *firmware[FAKE_MAX];
static int firmware_n;
module_param_array(firmware, charp, &firmware_n, 0444);
MODULE_PARM_DESC(firmware, "firmware file names (default rproc-fw.elf)");

#define INT_ARRAY(name, desc)                                                                      \
	static int name[FAKE_MAX];                                                                 \
	static int name##_n;                                                                       \
	module_param_array(name, int, &name##_n, 0444);                                           \
	MODULE_PARM_DESC(name, desc)

INT_ARRAY(auto_boot, "rproc->auto_boot (0/1, default 0)");
INT_ARRAY(detached, "registered DETACHED: started by a bootloader (0/1)");
INT_ARRAY(recovery_disabled, "initial recovery_disabled (0/1)");
INT_ARRAY(coredump, "initial coredump: 0 disabled, 1 enabled, 2 inline");
INT_ARRAY(boot_ms, "ops->start delay in ms (default 100)");
INT_ARRAY(stop_ms, "ops->stop delay in ms (default 20)");
INT_ARRAY(attach_ms, "ops->attach and ops->detach delay in ms (default 0)");
INT_ARRAY(no_stop, "no ops->stop (1: stop is EINVAL)");
INT_ARRAY(no_detach, "no ops->detach (1: detach is EINVAL)");
INT_ARRAY(attach_on_recovery, "RPROC_FEAT_ATTACH_ON_RECOVERY (0/1)");
INT_ARRAY(sysfs_read_only, "rproc->sysfs_read_only (0/1)");

/* What the module keeps per processor, across unbind and bind. */
struct fake_proc {
	int index;
	struct platform_device *pdev;
	struct rproc *rproc; /* with a device reference of ours, so it outlives rproc_del */
	struct rproc_ops ops;
	struct dentry *dir;
	int fail[OP_COUNT];   /* positive errno to fail the op with, 0 for success */
	u32 delay[OP_COUNT];  /* ms */
	u32 calls[OP_COUNT];
};

static struct fake_proc fakes[FAKE_MAX];
static struct dentry *fake_root;
static DEFINE_MUTEX(fake_lock);

struct fake_priv {
	struct fake_proc *fp;
};

static int fake_op(struct rproc *rproc, enum fake_op op)
{
	struct fake_proc *fp = ((struct fake_priv *)rproc->priv)->fp;

	fp->calls[op]++;
	if (fp->delay[op])
		msleep(fp->delay[op]);
	return fp->fail[op] ? -fp->fail[op] : 0;
}

static int fake_start(struct rproc *rproc) { return fake_op(rproc, OP_START); }
static int fake_stop(struct rproc *rproc) { return fake_op(rproc, OP_STOP); }
static int fake_attach(struct rproc *rproc) { return fake_op(rproc, OP_ATTACH); }
static int fake_detach(struct rproc *rproc) { return fake_op(rproc, OP_DETACH); }

/* Any blob is firmware; one dump segment per boot, so coredumps (and inline waits) really happen. */
static int fake_parse_fw(struct rproc *rproc, const struct firmware *fw)
{
	return rproc_coredump_add_segment(rproc, 0, 16);
}

static int fake_load(struct rproc *rproc, const struct firmware *fw)
{
	return fake_op(rproc, OP_LOAD);
}

static const char *state_name(int state)
{
	switch (state) {
	case RPROC_OFFLINE: return "offline";
	case RPROC_SUSPENDED: return "suspended";
	case RPROC_RUNNING: return "running";
	case RPROC_CRASHED: return "crashed";
#ifdef FAKE_HAVE_DELETED
	case RPROC_DELETED: return "deleted";
#endif
	case RPROC_ATTACHED: return "attached";
	case RPROC_DETACHED: return "detached";
	default: return "invalid";
	}
}

/* status: "<state> <power> <shutdown-on-release> <crash_cnt> <bound>" — the twin's final line. */
static int status_show(struct seq_file *s, void *unused)
{
	struct fake_proc *fp = s->private;

	mutex_lock(&fake_lock);
	if (fp->rproc)
		seq_printf(s, "%s %d %d %u %d\n", state_name(fp->rproc->state),
			   atomic_read(&fp->rproc->power), fp->rproc->cdev_put_on_release ? 1 : 0,
			   fp->rproc->crash_cnt, fp->pdev && fp->pdev->dev.driver ? 1 : 0);
	else
		seq_puts(s, "none 0 0 0 0\n");
	mutex_unlock(&fake_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(status);

static int calls_show(struct seq_file *s, void *unused)
{
	struct fake_proc *fp = s->private;
	int op;

	for (op = 0; op < OP_COUNT; op++)
		seq_printf(s, "%s %u\n", op_names[op], fp->calls[op]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(calls);

static int crash_type(const char *buf)
{
	if (sysfs_streq(buf, "mmufault"))
		return RPROC_MMUFAULT;
	if (sysfs_streq(buf, "watchdog"))
		return RPROC_WATCHDOG;
	if (sysfs_streq(buf, "fatal error"))
		return RPROC_FATAL_ERROR;
	return RPROC_FATAL_ERROR + 1; /* prints as "unknown" */
}

/*
 * crash: rproc_report_crash(), then wait (at most 50 ms) until the crash worker has looked at the
 * processor — counted the crash, or dropped it — so that the next operation sees what it did. A worker
 * waiting on rproc->lock (held by a boot in progress) is not waited for, nor one queued behind a
 * running worker (a work item never runs twice at once, and the running one is in a recovery that
 * can last a whole boot): waiting for either only spends real time the twin's virtual instant does
 * not have (random-0051: two such waits outlasted the recovery's stop, and `state` read offline where
 * the twin, still in the same instant, read crashed).
 */
static ssize_t crash_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct fake_proc *fp = file->private_data;
	struct rproc *rproc;
	char buf[16] = "";
	unsigned int before, busy;
	int i;

	if (copy_from_user(buf, ubuf, min(len, sizeof(buf) - 1)))
		return -EFAULT;
	mutex_lock(&fake_lock);
	rproc = fp->rproc;
	mutex_unlock(&fake_lock);
	if (!rproc)
		return -ENODEV;
	before = rproc->crash_cnt;
	rproc_report_crash(rproc, crash_type(buf));
	for (i = 0; i < 50; i++) {
		if (rproc->crash_cnt != before || !work_busy(&rproc->crash_handler))
			break;
		if (mutex_is_locked(&rproc->lock) && rproc->state != RPROC_CRASHED && i >= 2)
			break;
		busy = work_busy(&rproc->crash_handler);
		if ((busy & WORK_BUSY_PENDING) && (busy & WORK_BUSY_RUNNING))
			break;
		usleep_range(1000, 1100);
	}
	return len;
}

static const struct file_operations crash_fops = {
	.open = simple_open,
	.write = crash_write,
	.llseek = noop_llseek,
};

/* suspend/resume: what a platform driver's system PM does (RUNNING <-> SUSPENDED); the core never does. */
static ssize_t pm_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos,
			int from, int to)
{
	struct fake_proc *fp = file->private_data;
	struct rproc *rproc = fp->rproc;

	if (!rproc)
		return -ENODEV;
	mutex_lock(&rproc->lock);
	if (rproc->state == from)
		rproc->state = to;
	mutex_unlock(&rproc->lock);
	return len;
}

static ssize_t suspend_write(struct file *f, const char __user *b, size_t l, loff_t *p)
{
	return pm_write(f, b, l, p, RPROC_RUNNING, RPROC_SUSPENDED);
}

static ssize_t resume_write(struct file *f, const char __user *b, size_t l, loff_t *p)
{
	return pm_write(f, b, l, p, RPROC_SUSPENDED, RPROC_RUNNING);
}

static const struct file_operations suspend_fops = {
	.open = simple_open, .write = suspend_write, .llseek = noop_llseek,
};
static const struct file_operations resume_fops = {
	.open = simple_open, .write = resume_write, .llseek = noop_llseek,
};

static int param(const int *array, int n, int i, int def)
{
	return i < n ? array[i] : def;
}

static int fake_probe(struct platform_device *pdev)
{
	struct fake_proc *fp = &fakes[pdev->id];
	int i = pdev->id;
	struct fake_priv *priv;
	struct rproc *rproc, *old;
	char defname[16];
	const char *name = i < names_n ? names[i] : NULL;
	const char *fw = i < firmware_n ? firmware[i] : "rproc-fw.elf";
	int ret;

	if (!name) {
		snprintf(defname, sizeof(defname), "fake%d", i);
		name = defname;
	}
	fp->ops = (struct rproc_ops){
		.start = fake_start,
		.stop = param(no_stop, no_stop_n, i, 0) ? NULL : fake_stop,
		.attach = fake_attach,
		.detach = param(no_detach, no_detach_n, i, 0) ? NULL : fake_detach,
		.parse_fw = fake_parse_fw,
		.load = fake_load,
	};
	rproc = rproc_alloc(&pdev->dev, name, &fp->ops, fw, sizeof(*priv));
	if (!rproc)
		return -ENOMEM;
	priv = rproc->priv;
	priv->fp = fp;
	rproc->auto_boot = param(auto_boot, auto_boot_n, i, 0);
	rproc->recovery_disabled = param(recovery_disabled, recovery_disabled_n, i, 0);
	rproc->dump_conf = param(coredump, coredump_n, i, 0) == 2 ? RPROC_COREDUMP_INLINE :
			   param(coredump, coredump_n, i, 0) == 1 ? RPROC_COREDUMP_ENABLED :
								     RPROC_COREDUMP_DISABLED;
	rproc->sysfs_read_only = param(sysfs_read_only, sysfs_read_only_n, i, 0);
	if (param(attach_on_recovery, attach_on_recovery_n, i, 0))
		set_bit(RPROC_FEAT_ATTACH_ON_RECOVERY, rproc->features);
	if (param(detached, detached_n, i, 0))
		rproc->state = RPROC_DETACHED;
	rproc_coredump_set_elf_info(rproc, ELFCLASS32, EM_NONE);
	platform_set_drvdata(pdev, rproc);

	get_device(&rproc->dev);
	mutex_lock(&fake_lock);
	old = fp->rproc;
	fp->rproc = rproc;
	mutex_unlock(&fake_lock);
	if (old)
		put_device(&old->dev);

	ret = rproc_add(rproc);
	if (ret) {
		mutex_lock(&fake_lock);
		fp->rproc = NULL;
		mutex_unlock(&fake_lock);
		put_device(&rproc->dev);
		rproc_free(rproc);
	}
	return ret;
}

static void fake_remove_common(struct platform_device *pdev)
{
	struct rproc *rproc = platform_get_drvdata(pdev);

	rproc_del(rproc);
	rproc_free(rproc);
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
static void fake_remove(struct platform_device *pdev)
{
	fake_remove_common(pdev);
}
#else
static int fake_remove(struct platform_device *pdev)
{
	fake_remove_common(pdev);
	return 0;
}
#endif

static struct platform_driver fake_driver = {
	.probe = fake_probe,
	.remove = fake_remove,
	.driver = { .name = DRV_NAME },
};

static void fake_debugfs(struct fake_proc *fp)
{
	char dir[8];
	int op;

	snprintf(dir, sizeof(dir), "%d", fp->index);
	fp->dir = debugfs_create_dir(dir, fake_root);
	debugfs_create_file("status", 0444, fp->dir, fp, &status_fops);
	debugfs_create_file("calls", 0444, fp->dir, fp, &calls_fops);
	debugfs_create_file("crash", 0200, fp->dir, fp, &crash_fops);
	debugfs_create_file("suspend", 0200, fp->dir, fp, &suspend_fops);
	debugfs_create_file("resume", 0200, fp->dir, fp, &resume_fops);
	for (op = 0; op < OP_COUNT; op++) {
		char file[24];

		snprintf(file, sizeof(file), "fail_%s", op_names[op]);
		debugfs_create_u32(file, 0644, fp->dir, (u32 *)&fp->fail[op]);
		snprintf(file, sizeof(file), "delay_%s_ms", op_names[op]);
		debugfs_create_u32(file, 0644, fp->dir, &fp->delay[op]);
	}
}

static void fake_cleanup(void)
{
	int i;

	for (i = 0; i < FAKE_MAX; i++) {
		if (fakes[i].pdev)
			platform_device_unregister(fakes[i].pdev);
		fakes[i].pdev = NULL;
	}
	platform_driver_unregister(&fake_driver);
	debugfs_remove_recursive(fake_root);
	for (i = 0; i < FAKE_MAX; i++) {
		if (fakes[i].rproc)
			put_device(&fakes[i].rproc->dev);
		fakes[i].rproc = NULL;
	}
}

static int __init fake_init(void)
{
	int i, ret;

	if (procs < 1 || procs > FAKE_MAX)
		return -EINVAL;
	fake_root = debugfs_create_dir(DRV_NAME, NULL);
	for (i = 0; i < procs; i++) {
		struct fake_proc *fp = &fakes[i];

		fp->index = i;
		fp->delay[OP_START] = param(boot_ms, boot_ms_n, i, 100);
		fp->delay[OP_STOP] = param(stop_ms, stop_ms_n, i, 20);
		fp->delay[OP_ATTACH] = param(attach_ms, attach_ms_n, i, 0);
		fp->delay[OP_DETACH] = fp->delay[OP_ATTACH];
		fake_debugfs(fp);
	}
	ret = platform_driver_register(&fake_driver);
	if (ret) {
		debugfs_remove_recursive(fake_root);
		return ret;
	}
	/* Registered in order, probed synchronously: remoteproc0, remoteproc1, … in processor order. */
	for (i = 0; i < procs; i++) {
		fakes[i].pdev = platform_device_register_simple(DRV_NAME, i, NULL, 0);
		if (IS_ERR(fakes[i].pdev)) {
			ret = PTR_ERR(fakes[i].pdev);
			fakes[i].pdev = NULL;
			fake_cleanup();
			return ret;
		}
	}
	return 0;
}

static void __exit fake_exit(void)
{
	fake_cleanup();
}

module_init(fake_init);
module_exit(fake_exit);
MODULE_LICENSE("GPL v2");
MODULE_DESCRIPTION("Fake remoteproc platform driver for the rproc-supervisor lab");
