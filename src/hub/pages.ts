/**
 * The hub's browser views: one self-contained page each (no build step), reading the hub's JSON API.
 * fleet: every bench live over /ws; runs: the search; run: one run's record and its reports; analytics: lane
 * yield heatmap on the array, wafer map (pass/fail, pJ/bit), trends by lot and day.
 */
const STYLE = `body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2733}
nav{background:#1d2733;padding:8px 16px}nav a{color:#fff;margin-right:16px;text-decoration:none}
main{padding:16px}table{border-collapse:collapse;background:#fff}th,td{padding:4px 8px;border-bottom:1px solid #dde}
th{text-align:left;background:#eef}.on{color:#0a7b32;font-weight:600}.off{color:#a33}.PASS{color:#0a7b32}
.FAIL,.ERROR,.INTERRUPTED{color:#b00020}.grid{display:grid;gap:1px;margin:8px 0}.cell{width:14px;height:14px}
form input,form select{margin-right:8px}`;

const COMMON = `const $=(s)=>document.querySelector(s);
const esc=(s)=>String(s??'').replace(/[&<>"']/g,(c)=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'})[c]);
const qs=(form)=>new URLSearchParams([...new FormData(form)].filter(([,v])=>v!=='')).toString();
async function getJson(u){const r=await fetch(u);const j=await r.json();if(!r.ok)throw new Error(j.error?.message??r.status);return j;}`;

const FLEET = `
<h1>Fleet</h1><p id="count"></p>
<table id="benches"><thead><tr><th>Bench</th><th>State</th><th>Station</th><th>Run</th><th>DUT</th>
<th>Progress</th><th>Verdict</th><th>Last heartbeat</th><th>Forwarded</th></tr></thead><tbody></tbody></table>
<script>${COMMON}
const benches=new Map();
function row(b){const s=b.status??{};const r=s.run;
 const name=b.url?'<a href="'+esc(b.url)+'" target="_blank">'+esc(b.name)+'</a>':esc(b.name);
 const state=b.revoked?'<span class="off">revoked</span>':b.online?'<span class="on">online</span> '+esc(s.state??''):'<span class="off">offline</span>';
 return '<tr data-bench="'+esc(b.name)+'"><td>'+name+'</td><td>'+state+'</td><td>'+esc(b.station)+'</td><td>'+
  (r?'<a href="/runs/'+esc(r.id)+'">'+esc(r.sequence)+'</a>':'')+'</td><td>'+esc(r?.dut)+'</td><td>'+
  (r?esc(r.done+'/'+r.total):'')+'</td><td class="'+esc(r?.verdict??r?.outcome)+'">'+esc(r?.verdict??r?.outcome)+
  '</td><td class="hb">'+esc(b.lastHeartbeat)+'</td><td>'+esc(b.cursor)+'</td></tr>';}
function render(){const list=[...benches.values()].sort((a,b)=>a.name.localeCompare(b.name));
 $('#benches tbody').innerHTML=list.map(row).join('');
 $('#count').textContent=list.filter((b)=>b.online).length+' of '+list.length+' benches online';}
function connect(){const ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/ws');
 ws.onmessage=(ev)=>{const m=JSON.parse(ev.data);
  if(m.type==='benches'){benches.clear();for(const b of m.benches)benches.set(b.name,b);}
  else if(m.type==='bench')benches.set(m.bench.name,m.bench);
  else if(m.type==='changed')for(const b of m.benches)benches.set(b.name,b);
  render();window.__lastUpdate={ts:m.ts,at:Date.now(),bench:m.bench?.name,status:m.bench?.status};};
 ws.onclose=()=>setTimeout(connect,1000);}
connect();
</script>`;

const FILTER_FORM = `<form id="f">
<input name="bench" placeholder="bench"><input name="dut" placeholder="DUT"><input name="lot" placeholder="lot">
<input name="wafer" placeholder="wafer"><input name="sequence" placeholder="sequence">
<select name="outcome"><option value="">any outcome</option><option>PASS</option><option>FAIL</option>
<option>ERROR</option><option>ABORTED</option><option>INTERRUPTED</option><option>RUNNING</option></select>
<input name="since" placeholder="since (ISO date)"><input name="until" placeholder="until (ISO date)">
<button>Search</button></form><p id="err" class="FAIL"></p>`;

const RUNS = `
<h1>Runs</h1>${FILTER_FORM}
<table id="runs"><thead><tr><th>Started</th><th>Bench</th><th>Sequence</th><th>DUT</th><th>Lot</th><th>Wafer</th>
<th>Die</th><th>Outcome</th><th>pJ/bit</th><th>Reports</th></tr></thead><tbody></tbody></table>
<script>${COMMON}
async function search(){try{$('#err').textContent='';
 const {runs}=await getJson('/api/runs?'+qs($('#f')));
 $('#runs tbody').innerHTML=runs.map((r)=>'<tr><td>'+esc(r.startedAt)+'</td><td>'+esc(r.bench)+'</td><td>'+
  esc(r.sequence)+'</td><td><a href="/runs/'+esc(r.id)+'">'+esc(r.dut)+'</a></td><td>'+esc(r.lot)+'</td><td>'+
  esc(r.wafer)+'</td><td>'+(r.die?esc(r.die.x+','+r.die.y):'')+'</td><td class="'+esc(r.outcome)+'">'+
  esc(r.outcome)+'</td><td>'+esc(r.energyPerBitPj?.toFixed(3))+'</td><td>'+
  ['html','json','csv','junit'].map((f)=>'<a href="/api/runs/'+esc(r.id)+'/report.'+f+'">'+f+'</a>').join(' ')+
  '</td></tr>').join('');}catch(e){$('#err').textContent=e.message;}}
const p=new URLSearchParams(location.search);for(const [k,v] of p)if($('#f [name='+k+']'))$('#f [name='+k+']').value=v;
$('#f').onsubmit=(e)=>{e.preventDefault();history.replaceState(null,'','?'+qs($('#f')));search();};search();
</script>`;

const RUN = `
<h1 id="title">Run</h1><p id="meta"></p><p id="reports"></p><p id="err" class="FAIL"></p>
<table id="steps"><thead><tr><th>#</th><th>Step</th><th>Type</th><th>Verdict</th><th>Measurements</th><th>Error</th>
</tr></thead><tbody></tbody></table>
<script>${COMMON}
const id=decodeURIComponent(location.pathname.split('/').pop());
getJson('/api/runs/'+encodeURIComponent(id)).then((r)=>{
 $('#title').innerHTML=esc(r.sequence.name)+' on '+esc(r.dut)+' &mdash; <span class="'+esc(r.outcome)+'">'+esc(r.outcome)+'</span>';
 $('#meta').textContent='bench '+r.lab.bench+', started '+r.startedAt+(r.finishedAt?', finished '+r.finishedAt:'')+
  (r.lab.lot?', lot '+r.lab.lot:'')+(r.lab.wafer?', wafer '+r.lab.wafer:'')+(r.lab.die?', die '+r.lab.die.x+','+r.lab.die.y:'')+
  (r.summary?.energyPerBitPj!==undefined?', '+r.summary.energyPerBitPj.toFixed(3)+' pJ/bit':'')+(r.error?' — '+r.error:'');
 $('#reports').innerHTML='Reports: '+['html','json','csv','junit'].map((f)=>'<a href="/api/runs/'+encodeURIComponent(id)+'/report.'+f+'">'+f+'</a>').join(' ');
 $('#steps tbody').innerHTML=r.steps.map((s)=>'<tr><td>'+s.index+'</td><td>'+esc(s.name)+'</td><td>'+esc(s.type)+
  '</td><td class="'+esc(s.verdict)+'">'+esc(s.verdict)+'</td><td>'+s.measurements.length+'</td><td>'+esc(s.error)+'</td></tr>').join('');
}).catch((e)=>{$('#err').textContent=e.message;});
</script>`;

const ANALYTICS = `
<h1>Analytics</h1>${FILTER_FORM}
<h2>Yield per lane position</h2><p id="ysum"></p><div id="heat" class="grid"></div>
<h2>Wafer map</h2><label><input type="radio" name="wm" value="pass" checked> pass/fail</label>
<label><input type="radio" name="wm" value="energy"> pJ/bit</label><div id="wafer" class="grid"></div>
<h2>Trends by lot and day</h2>
<table id="trends"><thead><tr><th>Day</th><th>Lot</th><th>Runs</th><th>Passed</th><th>Mean pJ/bit</th>
<th>Worst BER bound</th></tr></thead><tbody></tbody></table>
<script>${COMMON}
const ramp=(t)=>'hsl('+Math.round(120*t)+',70%,45%)';let wafer={dies:[]};
function drawWafer(){const mode=document.querySelector('input[name=wm]:checked').value;const d=wafer.dies;
 if(!d.length){$('#wafer').innerHTML='<p>no dies with a position in this selection</p>';return;}
 const xs=d.map((x)=>x.x),ys=d.map((x)=>x.y);const x0=Math.min(...xs),y0=Math.min(...ys);
 const e=d.map((x)=>x.energyPerBitPj).filter((v)=>v!=null);const lo=Math.min(...e),hi=Math.max(...e);
 $('#wafer').style.gridTemplateColumns='repeat('+(Math.max(...xs)-x0+1)+',14px)';
 $('#wafer').innerHTML=d.map((c)=>{const col=mode==='pass'?(c.outcome==='PASS'?'#0a7b32':'#b00020'):
  (c.energyPerBitPj==null?'#ccc':ramp(hi>lo?1-(c.energyPerBitPj-lo)/(hi-lo):1));
  return '<a class="cell" href="/runs/'+esc(c.runId)+'" title="'+esc(c.dut+' '+c.outcome+' '+(c.energyPerBitPj??''))+
  '" style="grid-column:'+(c.x-x0+1)+';grid-row:'+(c.y-y0+1)+';background:'+col+'"></a>';}).join('');}
async function load(){try{$('#err').textContent='';const q=qs($('#f'));
 const y=await getJson('/api/analytics/lane-yield?'+q);const cols=y.cols??Math.ceil(Math.sqrt(y.lanes.length||1));
 $('#ysum').textContent=y.runs+' runs, '+y.lanes.length+' lane positions';
 $('#heat').style.gridTemplateColumns='repeat('+cols+',14px)';
 $('#heat').innerHTML=y.lanes.map((l,i)=>'<div class="cell" title="lane '+l.lane+': '+(l.yield==null?'untested':(100*l.yield).toFixed(1)+'% of '+l.tested)+
  '" style="'+(l.row==null?'':'grid-row:'+(l.row+1)+';grid-column:'+(l.col+1)+';')+'background:'+(l.yield==null?'#ccc':ramp(l.yield))+'"></div>').join('');
 wafer=await getJson('/api/analytics/wafer-map?'+q);drawWafer();
 const {points}=await getJson('/api/analytics/trends?'+q);
 $('#trends tbody').innerHTML=points.map((p)=>'<tr><td>'+esc(p.day)+'</td><td>'+esc(p.lot)+'</td><td>'+p.runs+'</td><td>'+
  p.passed+'</td><td>'+esc(p.meanEnergyPerBitPj?.toFixed(3))+'</td><td>'+esc(p.worstBerUpperBound?.toExponential(2))+'</td></tr>').join('');
 }catch(e){$('#err').textContent=e.message;}}
for(const r of document.querySelectorAll('input[name=wm]'))r.onchange=drawWafer;
$('#f').onsubmit=(e)=>{e.preventDefault();load();};load();
</script>`;

const BODIES = { fleet: FLEET, runs: RUNS, run: RUN, analytics: ANALYTICS };

export function hubPage(page: keyof typeof BODIES): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>cpobench hub: ${page}</title>
<style>${STYLE}</style></head><body><nav><a href="/">Fleet</a><a href="/runs">Runs</a><a href="/analytics">Analytics</a>
</nav><main>${BODIES[page]}</main></body></html>`;
}
