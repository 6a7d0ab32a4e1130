/** Is a process with this id running on this machine? Signal 0 only asks; EPERM means it runs as someone else. */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
