//! The real engines: MPI (`mpirun -n 2` and `-n 3`, Ctrl-C under mpirun) with the `mpi` build,
//! and a real single-node Slurm cluster running the example batch scripts as a job array of
//! shards plus a merge job. Each test skips, saying why on stderr, where its packages, the
//! `mpi` feature or root are missing; `.ci/engines` installs them and runs these tests.
//! The Slurm tests use fixed ports: run them one at a time (`--test-threads 1`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Piest, json_of};
use serde_json::Value;

/// `program` on the PATH, if there.
fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Says why a test did not run, on the real stderr (the test harness captures `eprintln!`).
fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// The single-process answer to compare with.
fn single(args: &[&str]) -> Value {
    Piest::new().json(&[args, &["--no-cache"]].concat()).0
}

/// `mpirun` with what it needs as root and on a machine with fewer cores than ranks.
fn mpirun(env: &Piest, ranks: u32) -> Command {
    let mut cmd = Command::new("mpirun");
    let bin = assert_cmd::cargo::cargo_bin!("piest");
    let base = env.std_cmd();
    for (key, value) in base.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1")
        .args(["-n", &ranks.to_string(), "--bind-to", "none"])
        .arg(bin);
    cmd
}

fn mpi_ready() -> bool {
    if !cfg!(feature = "mpi") {
        skip("MPI tests need the mpi feature: cargo test --features mpi --test engines");
        return false;
    }
    if which("mpirun").is_none() {
        skip("MPI tests need mpirun (Debian: openmpi-bin libopenmpi-dev)");
        return false;
    }
    true
}

#[test]
fn mpirun_with_two_and_three_ranks_counts_what_one_process_counts() {
    if !mpi_ready() {
        return;
    }
    let args = ["-n", "3e8", "--seed", "4", "--chunk-size", "1e6"];
    let whole = single(&args);
    for ranks in [2, 3] {
        let env = Piest::new();
        let (report, stderr) = json_of(
            mpirun(&env, ranks)
                .args(args)
                .args(["--no-cache", "--json"]),
        );
        assert_eq!(report["ranks"], ranks, "{stderr}");
        for field in ["inside", "trials", "pi", "std_error", "ci95"] {
            assert_eq!(report[field], whole[field], "{ranks} ranks: {field}");
        }
        eprintln!(
            "mpirun -n {ranks}: inside {} (one process: {})",
            report["inside"], whole["inside"]
        );
    }
}

#[test]
fn mpirun_sums_a_stratified_run_exactly_interval_included() {
    if !mpi_ready() {
        return;
    }
    let args = [
        "--method",
        "stratified",
        "-n",
        "2e7",
        "--seed",
        "4",
        "--chunk-size",
        "65536",
    ];
    let whole = single(&args);
    assert_eq!(whole["ci_method"], "student-t");
    for ranks in [2, 3] {
        let env = Piest::new();
        let (report, stderr) = json_of(
            mpirun(&env, ranks)
                .args(args)
                .args(["--no-cache", "--json"]),
        );
        assert_eq!(report["ranks"], ranks, "{stderr}");
        for field in [
            "inside",
            "trials",
            "pi",
            "std_error",
            "ci95",
            "ci_method",
            "method",
        ] {
            assert_eq!(report[field], whole[field], "{ranks} ranks: {field}");
        }
    }
}

#[test]
fn ctrl_c_under_mpirun_stores_completed_chunks_and_ends_every_rank() {
    use std::os::unix::process::CommandExt;
    if !mpi_ready() {
        return;
    }
    let env = Piest::new();
    // Long enough to be interrupted: small chunks (1e6) so that chunks complete early.
    let args = ["-n", "5e10", "--seed", "9", "--chunk-size", "1e6", "-v"];
    let mut child = mpirun(&env, 2)
        .args(args)
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start mpirun");
    // Busy: chunk lines on stderr from the ranks.
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut chunk_lines = 0;
    while chunk_lines < 8 {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("no chunk line in 60 s");
        if line.contains("chunk") {
            chunk_lines += 1;
        }
    }
    // A terminal's Ctrl-C goes to the whole foreground process group: mpirun and its ranks.
    let pgid = child.id().to_string();
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-INT", "--", &format!("-{pgid}")])
            .status()
            .expect("kill")
            .success()
    );
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(20),
            "mpirun still running 20 s after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "{status:?}");
    // Nothing is left running in a reduce: every rank is gone with mpirun.
    let ranks = Command::new("pgrep")
        .args(["-g", &pgid])
        .output()
        .expect("pgrep");
    assert!(
        ranks.stdout.is_empty(),
        "ranks left: {}",
        String::from_utf8_lossy(&ranks.stdout)
    );
    // Completed chunks were stored: a whole run of the first 1e8 trials reads them back.
    let (again, _) = env.json(&["-n", "1e8", "--seed", "9", "--chunk-size", "1e6"]);
    assert!(again["cached_chunks"].as_u64().unwrap_or(0) > 0, "{again}");
    eprintln!(
        "SIGINT under mpirun: ended in {:?}, {} chunks of 100 then read from the cache",
        sent.elapsed(),
        again["cached_chunks"]
    );
}

/// A single-node Slurm cluster for one test: munged (as the munge user) and `slurmctld -c` and
/// `slurmd` (as root) on a fresh state directory. Dropping it (also when the test fails) runs
/// `scontrol shutdown` and then ends each daemon by the pid it wrote.
struct Cluster {
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts the cluster, or says why it cannot (missing packages, not root).
    fn start() -> Result<Cluster, String> {
        for program in [
            "slurmctld",
            "slurmd",
            "sbatch",
            "squeue",
            "scontrol",
            "munged",
        ] {
            if which(program).is_none() && !Path::new("/usr/sbin").join(program).is_file() {
                return Err(format!(
                    "Slurm tests need {program} (Debian: slurm-wlm munge)"
                ));
            }
        }
        if !is_root() {
            return Err("Slurm tests start slurmd and munged, which needs root".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("piest-slurm")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let cluster = Cluster { dir };
        let d = cluster.dir.path();
        let run = |cmd: &mut Command| -> Result<(), String> {
            let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)))
            }
        };
        let munge = d.join("munge");
        std::fs::create_dir_all(&munge).map_err(|e| e.to_string())?;
        for sub in ["state", "spool", "jobs"] {
            std::fs::create_dir_all(d.join(sub)).map_err(|e| e.to_string())?;
        }
        run(Command::new("chmod").arg("755").arg(d))?;
        run(Command::new("chown").arg("munge:munge").arg(&munge))?;
        run(Command::new("chmod").arg("755").arg(&munge))?;
        let p = |name: &str| munge.join(name).display().to_string();
        run(Command::new("runuser")
            .args(["-u", "munge", "--", "munged"])
            .args([
                format!("--socket={}", p("sock")),
                format!("--pid-file={}", p("pid")),
                format!("--log-file={}", p("log")),
                format!("--seed-file={}", p("seed")),
            ]))?;
        let host = Command::new("hostname")
            .arg("-s")
            .output()
            .map_err(|e| e.to_string())?;
        let host = String::from_utf8_lossy(&host.stdout).trim().to_owned();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let conf = format!(
            "ClusterName=piesttest\nSlurmctldHost={host}\nSlurmctldPort=6817\nSlurmdPort=6818\n\
             AuthType=auth/munge\nAuthInfo=socket={sock}\nCredType=cred/munge\n\
             StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
             SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
             SlurmUser=root\nSlurmdUser=root\nProctrackType=proctrack/linuxproc\n\
             TaskPlugin=task/none\nSelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\n\
             MailProg=/bin/true\nReturnToService=2\nJobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\nMpiDefault=none\n\
             NodeName={host} CPUs={cpus} State=UNKNOWN\n\
             PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            sock = p("sock"),
            d = d.display(),
        );
        std::fs::write(cluster.conf(), conf).map_err(|e| e.to_string())?;
        run(cluster.cmd("slurmctld").arg("-c"))?;
        run(&mut cluster.cmd("slurmd"))?;
        // Up when the node is idle.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = cluster.cmd("sinfo").args(["-h", "-o", "%T"]).output();
            if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle") {
                return Ok(cluster);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the cluster did not come up in 30 s: {}",
                    cluster.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("slurm.conf")
    }

    /// A Slurm command talking to this cluster.
    fn cmd(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", self.conf());
        cmd
    }

    fn logs(&self) -> String {
        ["slurmctld.log", "slurmd.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Submits a batch script; returns the job id.
    fn sbatch(&self, args: &[&str], envs: &[(&str, String)]) -> String {
        let out = self
            .cmd("sbatch")
            .args(["--parsable", "--chdir"])
            .arg(self.dir.path().join("jobs"))
            .args(args)
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .expect("run sbatch");
        assert!(
            out.status.success(),
            "sbatch {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Waits until no job of `ids` is queued (`sbatch --wait` reports 0 for a cancelled job, so
    /// poll `squeue` instead), then returns each job's final state from `scontrol`.
    fn wait(&self, ids: &[&str], limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        loop {
            let out = self
                .cmd("squeue")
                .args(["-h", "-o", "%i"])
                .output()
                .expect("squeue");
            let queued = String::from_utf8_lossy(&out.stdout).to_string();
            if !ids
                .iter()
                .any(|id| queued.lines().any(|l| l.starts_with(id)))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "jobs still queued after {limit:?}:\n{queued}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        ids.iter()
            .map(|id| {
                let out = self
                    .cmd("scontrol")
                    .args(["show", "job", id])
                    .output()
                    .expect("scontrol");
                let text = String::from_utf8_lossy(&out.stdout).to_string();
                text.split_whitespace()
                    .filter_map(|w| w.strip_prefix("JobState="))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.cmd("scontrol").arg("shutdown").output();
        let d = self.dir.path();
        for pid_file in [
            d.join("slurmd.pid"),
            d.join("slurmctld.pid"),
            d.join("munge/pid"),
        ] {
            let Ok(pid) = std::fs::read_to_string(&pid_file) else {
                continue;
            };
            let pid = pid.trim().to_owned();
            // Give scontrol shutdown a moment, then end the daemon by its pid.
            for _ in 0..20 {
                if !Path::new("/proc").join(&pid).exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = Command::new("kill")
                .arg(&pid)
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

#[test]
fn a_slurm_job_array_of_shards_and_a_merge_job_give_the_single_run() {
    let cluster = match Cluster::start() {
        Ok(cluster) => cluster,
        Err(why) => return skip(&why),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let parts = cluster.dir.path().join("parts");
    let bin = assert_cmd::cargo::cargo_bin!("piest");
    let envs = [
        ("PIEST", bin.display().to_string()),
        ("TRIALS", "2e8".to_string()),
        ("SEED", "21".to_string()),
        ("PARTS", parts.display().to_string()),
        ("PIEST_SHARD_COUNT", "4".to_string()),
        (
            "PIEST_CACHE_DIR",
            cluster.dir.path().join("cache").display().to_string(),
        ),
    ];
    let shards = root
        .join("examples/slurm/piest-shards.sbatch")
        .display()
        .to_string();
    let merge = root
        .join("examples/slurm/piest-merge.sbatch")
        .display()
        .to_string();
    let array = cluster.sbatch(
        &["--array=0-3", "--cpus-per-task=1", "--export=ALL", &shards],
        &envs,
    );
    let dependency = format!("--dependency=afterok:{array}");
    let merged = cluster.sbatch(
        &[
            &dependency,
            "--kill-on-invalid-dep=yes",
            "--export=ALL",
            &merge,
        ],
        &envs,
    );
    let states = cluster.wait(&[&array, &merged], Duration::from_secs(240));
    assert!(
        states[0].split(',').all(|s| s == "COMPLETED"),
        "array: {states:?}\n{}",
        cluster.logs()
    );
    assert_eq!(
        states[1],
        "COMPLETED",
        "merge job: {states:?}\n{}",
        cluster.logs()
    );
    let total: Value =
        serde_json::from_slice(&std::fs::read(parts.join("total.json")).expect("total.json"))
            .expect("JSON");
    let whole = single(&["-n", "2e8", "--seed", "21"]);
    assert_eq!(total["inside"], whole["inside"]);
    assert_eq!(total["pi"], whole["pi"]);
    assert_eq!(total["parts"], 4);
    eprintln!(
        "Slurm array of 4 + merge: inside {} (single run {})",
        total["inside"], whole["inside"]
    );
}

#[test]
fn srun_with_pmix_runs_one_mpi_world() {
    if !mpi_ready() {
        return;
    }
    let cluster = match Cluster::start() {
        Ok(cluster) => cluster,
        Err(why) => return skip(&why),
    };
    let list = cluster
        .cmd("srun")
        .arg("--mpi=list")
        .output()
        .expect("srun --mpi=list");
    if !String::from_utf8_lossy(&list.stdout).contains("pmix")
        && !String::from_utf8_lossy(&list.stderr).contains("pmix")
    {
        return skip("this Slurm has no pmix plugin");
    }
    let args = ["-n", "2e8", "--seed", "4", "--no-cache", "--json"];
    let env = Piest::new();
    let mut srun = cluster.cmd("srun");
    srun.args(["--mpi=pmix", "-n", "2", "--chdir"])
        .arg(cluster.dir.path())
        .arg(assert_cmd::cargo::cargo_bin!("piest"))
        .args(args);
    srun.env("PIEST_CACHE_DIR", env.dir.path());
    let (report, _) = json_of(&mut srun);
    assert_eq!(report["ranks"], 2);
    assert_eq!(report["inside"], single(&args[..4])["inside"]);
    // A plain srun -n 2 (no PMI) is refused instead of computing the run twice.
    let plain = cluster
        .cmd("srun")
        .args(["-n", "2", "--chdir"])
        .arg(cluster.dir.path())
        .arg(assert_cmd::cargo::cargo_bin!("piest"))
        .args(args)
        .output()
        .expect("srun");
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("world of 1"));
}
