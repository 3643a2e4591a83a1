import { performance } from 'node:perf_hooks';
import { createActor, createMachine } from 'xstate';
import { leaseMachine, supervisorMachine, VirtualClock } from '../dist/index.js';
const n = Number(process.argv[2] ?? 1000);
const mode = process.argv[3] ?? 'churn';
function churn(n){
  const clock = new VirtualClock();
  const sup = createActor(supervisorMachine,{clock,input:{processors:['m4'],reconcile:'adopt',graceMs:0,restarted:false}}).start();
  const ls=[];
  for(let i=0;i<n;i++){const l=createActor(leaseMachine,{clock,input:{id:'l'+i,client:'c'+i,processor:'m4',ttlMs:null}});
    l.subscribe({complete:()=>{if(l.getSnapshot().status==='done')sup.send({type:'lease.ended',processor:'m4'})}});
    l.start();l.send({type:'lease.grant'});sup.send({type:'lease.granted',processor:'m4'});ls.push(l);}
  for(const l of ls) l.send({type:'lease.release'});
  sup.stop();
}
const m=createMachine({});
function bare(n){const a=[];for(let i=0;i<n;i++)a.push(createActor(m).start());for(const x of a)x.stop();}
const f = mode==='churn'?churn:bare;
for(let r=0;r<4;r++){globalThis.gc?.();const t=performance.now();f(n);console.log(mode,n,(performance.now()-t).toFixed(1));}
